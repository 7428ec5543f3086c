// `node ops/oidc/main.ts`: the demo OIDC issuer on 127.0.0.1:9400 with the client that
// examples/proxy.config.json uses. Users alice and carol are in group `staff`; bob is not (the
// example's SSO service admits only `staff`). Options: --port, --redirect-uri (repeatable).

import { parseArgs } from 'node:util';
import { startIssuer } from './issuer.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '9400' },
    'redirect-uri': { type: 'string', multiple: true, default: ['http://dashboard.localhost:8080/.proxy/callback'] },
  },
});

const issuer = await startIssuer({
  port: Number(values.port),
  users: [
    { sub: 'alice', email: 'alice@example.com', groups: ['staff'] },
    { sub: 'bob', email: 'bob@example.com', groups: ['contractors'] },
    { sub: 'carol', email: 'carol@example.com', groups: ['staff', 'admins'] },
  ],
  clients: [{ client_id: 'proxy-local', client_secret: 'demo-client-secret', redirect_uris: values['redirect-uri'] }],
});
process.stderr.write(`demo OIDC issuer at ${issuer.url} (users: alice, bob, carol)\n`);
const stop = () => void issuer.stop().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
