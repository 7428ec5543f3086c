// The proxy's small HTML pages: the password and PIN form, the magic-link form, and the chooser
// of a service with several methods. One look, one inline style, no script, nothing loaded from
// elsewhere; forms post to the proxy's own endpoints, so secrets never travel anywhere else.

import { createHash } from 'node:crypto';
import { LOGIN_PATH } from './endpoints.ts';

const STYLE = `
body{font-family:system-ui,sans-serif;display:grid;place-items:center;min-height:100vh;margin:0;background:#f4f5f7}
form,main{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002;display:grid;gap:.75rem;min-width:18rem;max-width:calc(100vw - 6rem)}
h1{font-size:1.2rem;margin:0}.error{color:#b00020;margin:0}input,button,.choice{font:inherit;padding:.5rem}p{margin:0}nav{display:grid;gap:.75rem}
.choice{display:block;text-align:center;border:1px solid #767676;border-radius:2px;background:#efefef;color:inherit;text-decoration:none}
.choice:focus-visible,button:focus-visible,input:focus-visible{outline:3px solid #1a5fb4;outline-offset:2px}
`;

/** The page's policy: its one inline style (by hash) and a form posting to its own origin; no script, no framing. */
export const LOGIN_PAGE_POLICY = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`;

export const HTML_CONTENT_TYPE = 'text/html; charset=utf-8';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char]!);
}

/** A whole page around `body`, which is already HTML. */
function page(service: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in to ${escapeHtml(service)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

function alert(message: string | undefined): string {
  return message ? `<p class="error" role="alert">${escapeHtml(message)}</p>` : '';
}

/** A form posting to `action` with the return path, `fields` inside. */
function form(action: string, service: string, returnTo: string, fields: string, message: string | undefined, button: string): string {
  return page(
    service,
    `<form method="post" action="${escapeHtml(action)}">
<h1>Sign in to ${escapeHtml(service)}</h1>
${alert(message)}
${fields}
<input type="hidden" name="return_to" value="${escapeHtml(returnTo)}">
<button type="submit">${button}</button>
</form>`,
  );
}

export interface LoginPageOptions {
  method: 'password' | 'pin';
  service: string;
  returnTo: string;
  message?: string | undefined;
  /** Where the form posts: the login endpoint, or this method's own under a service with several. */
  action?: string | undefined;
}

export function renderLoginPage(options: LoginPageOptions): string {
  const isPin = options.method === 'pin';
  const label = isPin ? 'PIN' : 'Password';
  const input = isPin
    ? '<input id="secret" name="pin" type="password" inputmode="numeric" autocomplete="one-time-code" required autofocus>'
    : '<input id="secret" name="password" type="password" autocomplete="current-password" required autofocus>';
  return form(options.action ?? LOGIN_PATH, options.service, options.returnTo, `<label for="secret">${label}</label>\n${input}`, options.message, 'Sign in');
}

export interface LinkPageOptions {
  service: string;
  action: string;
  returnTo: string;
  message?: string | undefined;
}

/** The magic-link form: an address to send the link to. */
export function renderLinkPage(options: LinkPageOptions): string {
  const input = '<input id="email" name="email" type="email" autocomplete="email" required autofocus>';
  return form(options.action, options.service, options.returnTo, `<label for="email">E-mail address</label>\n${input}`, options.message, 'Send sign-in link');
}

/** What the link form answers, whether or not the address may sign in (so it tells nobody which may). */
export function renderLinkSentPage(service: string, minutes: number): string {
  return page(
    service,
    `<main>
<h1>Check your e-mail</h1>
<p role="status">If this address may sign in to ${escapeHtml(service)}, a sign-in link is on its way. It works once, for ${minutes} minutes, in this browser only.</p>
</main>`,
  );
}

export interface Choice {
  label: string;
  /** The method's login path with the return path; undefined for a method a browser cannot pick (HTTP Basic). */
  href: string | undefined;
}

/** The chooser of a service with several methods: one link per method, in the configured order. */
export function renderChooserPage(service: string, choices: readonly Choice[], message?: string): string {
  const items = choices.map((choice) =>
    choice.href === undefined ? `<p>${escapeHtml(choice.label)}</p>` : `<a class="choice" href="${escapeHtml(choice.href)}">${escapeHtml(choice.label)}</a>`,
  );
  return page(
    service,
    `<main>
<h1>Sign in to ${escapeHtml(service)}</h1>
${alert(message)}
<nav aria-label="Sign-in methods">
${items.join('\n')}
</nav>
</main>`,
  );
}
