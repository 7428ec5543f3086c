// Bundles the page's browser code (Preact + htm + uPlot, TypeScript) in memory with esbuild,
// once per process: nothing is written to disk and no build output lives in git.

import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { ProxyAccessLogError } from '../../common/errors.ts';

export interface WebAsset {
  /** Content-addressed file name, so browsers may cache it forever. */
  name: string;
  type: string;
  body: Buffer;
}

export interface WebBundle {
  script: WebAsset;
  style: WebAsset;
}

/** The bundler failed (a syntax error in the page's source): the page cannot be served. */
export class WebBundleError extends ProxyAccessLogError {
  readonly code = 'WEB_BUNDLE_FAILED';
  constructor(cause: unknown) {
    super(`building the web page failed: ${(cause as Error).message}`, { cause });
  }
}

const ENTRY = fileURLToPath(new URL('./client/main.ts', import.meta.url));

function asset(stem: string, extension: string, type: string, contents: Uint8Array): WebAsset {
  const hash = createHash('sha256').update(contents).digest('hex').slice(0, 12);
  return { name: `${stem}.${hash}.${extension}`, type, body: Buffer.from(contents) };
}

export async function bundleWebPage(): Promise<WebBundle> {
  let outputs;
  try {
    const result = await build({
      entryPoints: [ENTRY],
      bundle: true,
      write: false,
      minify: true,
      format: 'esm',
      target: ['chrome110', 'firefox115', 'safari16'],
      outdir: 'out',
      entryNames: 'app',
      legalComments: 'none',
      logLevel: 'silent',
    });
    outputs = result.outputFiles;
  } catch (error) {
    throw new WebBundleError(error);
  }
  const js = outputs.find((file) => file.path.endsWith('.js'));
  const css = outputs.find((file) => file.path.endsWith('.css'));
  if (!js || !css) throw new WebBundleError(new Error('esbuild produced no script or no style sheet'));
  return {
    script: asset('app', 'js', 'text/javascript; charset=utf-8', js.contents),
    style: asset('app', 'css', 'text/css; charset=utf-8', css.contents),
  };
}
