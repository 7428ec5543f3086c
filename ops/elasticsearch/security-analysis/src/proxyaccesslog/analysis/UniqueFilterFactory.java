package proxyaccesslog.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.miscellaneous.RemoveDuplicatesTokenFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/** The `unique` token filter: drops a token repeated at the same position. */
@NamedComponent("unique")
public class UniqueFilterFactory implements TokenFilterFactory {
    @Override
    public TokenStream create(TokenStream tokenStream) {
        return new RemoveDuplicatesTokenFilter(tokenStream);
    }
}
