// The small HTML login form shown for password and PIN services. It posts to the proxy's own
// endpoint; the secret never travels anywhere else.

import { createHash } from 'node:crypto';
import { LOGIN_PATH } from './endpoints.ts';

const STYLE = `
body{font-family:system-ui,sans-serif;display:grid;place-items:center;min-height:100vh;margin:0;background:#f4f5f7}
form{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002;display:grid;gap:.75rem;min-width:18rem}
h1{font-size:1.2rem;margin:0}.error{color:#b00020;margin:0}input,button{font:inherit;padding:.5rem}
`;

/** The page's policy: its one inline style (by hash) and a form posting to its own origin; no script, no framing. */
export const LOGIN_PAGE_POLICY = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char]!);
}

export interface LoginPageOptions {
  method: 'password' | 'pin';
  service: string;
  returnTo: string;
  message?: string | undefined;
}

export function renderLoginPage(options: LoginPageOptions): string {
  const isPin = options.method === 'pin';
  const label = isPin ? 'PIN' : 'Password';
  const input = isPin
    ? '<input id="secret" name="pin" type="password" inputmode="numeric" autocomplete="one-time-code" required autofocus>'
    : '<input id="secret" name="password" type="password" autocomplete="current-password" required autofocus>';
  const message = options.message ? `<p class="error" role="alert">${escapeHtml(options.message)}</p>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in to ${escapeHtml(options.service)}</title>
<style>${STYLE}</style>
</head>
<body>
<form method="post" action="${LOGIN_PATH}">
<h1>Sign in to ${escapeHtml(options.service)}</h1>
${message}
<label for="secret">${label}</label>
${input}
<input type="hidden" name="return_to" value="${escapeHtml(options.returnTo)}">
<button type="submit">Sign in</button>
</form>
</body>
</html>
`;
}
