// Sign-in with an API token: checked against the API once, then kept in session storage only.

import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { ApiRequestError, apiFetch, EVENTS_PATH, storeToken } from './api.ts';

export function SignIn(props: { message: string | undefined; onSignedIn: (token: string) => void }) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(props.message);

  async function submit(event: Event) {
    event.preventDefault();
    const value = token.trim();
    if (!value) return setError('Enter the API token.');
    setBusy(true);
    setError(undefined);
    try {
      await apiFetch(EVENTS_PATH, new URLSearchParams({ page_size: '1' }), value);
    } catch (e) {
      // Only a refused token stops the sign-in; other failures show on the page itself.
      if (e instanceof ApiRequestError && e.status === 401) {
        setBusy(false);
        return setError('The API did not accept this token (401). Check it and try again.');
      }
      if (e instanceof ApiRequestError && e.status === 0) {
        setBusy(false);
        return setError(e.message);
      }
    }
    storeToken(value);
    props.onSignedIn(value);
  }

  return html`
    <main class="signin">
      <form class="signin-card" onSubmit=${submit}>
        <div class="brand brand-large"><span class="brand-mark"></span>Proxy Events</div>
        <p class="muted">Access log of the reverse proxy. Sign in with an API token from the API's configuration.</p>
        <label for="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="current-password"
          autofocus
          value=${token}
          onInput=${(e: Event) => setToken((e.target as HTMLInputElement).value)}
        />
        ${error ? html`<div class="alert alert-error" role="alert">${error}</div>` : null}
        <button class="btn btn-primary" type="submit" disabled=${busy}>${busy ? 'Checking…' : 'Sign in'}</button>
        <p class="fine">The token stays in this tab's session storage and is sent only as a bearer token.</p>
      </form>
    </main>
  `;
}
