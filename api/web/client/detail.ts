// Row detail: every field of the record, each copyable, and shortcuts to related requests.

import { html } from 'htm/preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import type { ProxyEvent } from './api.ts';
import { ClockContext } from './clock.ts';
import { CATEGORY_LABEL } from './format.ts';
import type { FilterParam } from './view-state.ts';

async function copy(text: string): Promise<boolean> {
  // The Clipboard API exists only in a secure context, and the browser may still refuse it
  // (a DOMException such as NotAllowedError); either way a selection copy does the job.
  if (navigator.clipboard) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (error) {
      if (!(error instanceof DOMException)) throw error;
    }
  }
  const area = document.createElement('textarea');
  area.value = text;
  document.body.append(area);
  area.select();
  const ok = document.execCommand('copy');
  area.remove();
  return ok;
}

function CopyButton(props: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  return html`<button
    type="button"
    class="btn btn-small"
    title="Copy to the clipboard"
    onClick=${async (e: Event) => {
      e.stopPropagation();
      setDone(await copy(props.text));
      setTimeout(() => setDone(false), 1200);
    }}
  >${done ? 'Copied' : (props.label ?? 'Copy')}</button>`;
}

interface DetailProps {
  record: ProxyEvent;
  onClose: () => void;
  onOnly: (param: FilterParam, value: string) => void;
}

export function Detail(props: DetailProps) {
  const r = props.record;
  const outcome = r.category;
  const clock = useContext(ClockContext);
  const ms = Date.parse(r.timestamp);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && props.onClose();
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, [props.onClose]);
  const fields = Object.entries(r).filter(([, v]) => v !== undefined && v !== null && v !== '');
  return html`
    <aside class="detail" aria-label="Request detail" data-testid="detail">
      <header class="detail-head">
        <div>
          <div class="muted small">Request</div>
          <h2><span class=${`status status-${outcome}`}>${r.status_code}</span> ${r.method} ${r.host}</h2>
          <div class="mono small path-full">${r.path}</div>
          <div class="muted small"><time datetime=${r.timestamp} title=${clock.iso(ms)}>${clock.date(ms)} ${clock.time(ms)} ${clock.offsetLabel}</time> · ${CATEGORY_LABEL[outcome] ?? outcome}</div>
        </div>
        <button type="button" class="btn btn-ghost close" aria-label="Close" onClick=${props.onClose}>✕</button>
      </header>
      <div class="shortcuts">
        <button type="button" class="btn" data-shortcut="source_ip" onClick=${() => props.onOnly('source_ip', r.source_ip)}>Requests from this IP</button>
        ${r.user_id
          ? html`<button type="button" class="btn" data-shortcut="user_id" onClick=${() => props.onOnly('user_id', r.user_id!)}>Requests by this user</button>`
          : null}
        <button type="button" class="btn" data-shortcut="host" onClick=${() => props.onOnly('host', r.host)}>Requests to this host</button>
      </div>
      <table class="fields">
        <tbody>
          ${fields.map(
            ([key, value]) => html`
              <tr>
                <th>${key}</th>
                <td class="mono" data-field=${key}>${String(value)}</td>
                <td class="copy-cell"><${CopyButton} text=${String(value)} /></td>
              </tr>
            `,
          )}
        </tbody>
      </table>
      <div class="detail-foot"><${CopyButton} text=${JSON.stringify(r, null, 2)} label="Copy as JSON" /></div>
    </aside>
  `;
}
