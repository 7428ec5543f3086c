// The records table with sortable headers, and the pager (offset pages, then cursor beyond the window).

import type { AuthMethod } from '../../../common/access-record.ts';
import { html } from 'htm/preact';
import type { EventsPage, ProxyEvent } from './api.ts';
import { cameFromThisPage } from './navigation.ts';
import { AUTH_LABEL, CATEGORY_LABEL, bytes, count, duration, localTime, utcTitle } from './format.ts';
import { PAGE_SIZES, type ViewState } from './view-state.ts';

/** Elasticsearch's offset window: beyond it, pages continue by cursor. */
const OFFSET_WINDOW = 10_000;

interface SortProps {
  view: ViewState;
  onSort: (by: string) => void;
}

function SortButton(props: SortProps & { by: string; label: string }) {
  const active = props.view.sortBy === props.by;
  const arrow = active ? (props.view.sortOrder === 'asc' ? '▲' : '▼') : '';
  return html`<button
    type="button"
    class=${`sort${active ? ' sort-active' : ''}`}
    data-sort=${props.by}
    aria-sort=${active ? (props.view.sortOrder === 'asc' ? 'ascending' : 'descending') : undefined}
    onClick=${() => props.onSort(props.by)}
  >${props.label}<span class="arrow">${arrow}</span></button>`;
}

function Row(props: { record: ProxyEvent; selected: boolean; fresh: boolean; onOpen: (id: string) => void }) {
  const r = props.record;
  const t = localTime(r.timestamp);
  const outcome = r.category;
  const place = r.city_name ?? r.country_name;
  const cls = ['row', props.selected ? 'row-selected' : '', props.fresh ? 'row-fresh' : ''].join(' ');
  return html`
    <tr
      class=${cls}
      tabindex="0"
      data-id=${r.id}
      data-outcome=${outcome}
      onClick=${() => props.onOpen(r.id)}
      onKeyDown=${(e: KeyboardEvent) => e.key === 'Enter' && props.onOpen(r.id)}
    >
      <td class="c-time" title=${utcTitle(r.timestamp)}><span class="muted">${t.date}</span> ${t.time}</td>
      <td class="c-loc">
        <div class="ip mono">${r.source_ip}</div>
        <div class="muted small">${r.country_code ? html`<span class="cc">${r.country_code}</span> ` : null}${place ?? 'unknown location'}</div>
      </td>
      <td class="c-req">
        <div><span class="method">${r.method}</span> <span class="host">${r.host}</span></div>
        <div class="path mono" title=${r.path}>${r.path}</div>
      </td>
      <td class="c-status">
        <div>
          <span class=${`status status-${outcome}`} title=${CATEGORY_LABEL[outcome] ?? outcome}>${r.status_code}</span>
          <span class="muted small dur">${duration(r.duration_ms)}</span>
        </div>
        ${r.reason ? html`<div class="reason small" title=${r.reason}>${r.reason}</div>` : null}
      </td>
      <td class="c-bytes small">
        <div title="received from the client">↑ ${bytes(r.bytes_upload)}</div>
        <div title="sent to the client">↓ ${bytes(r.bytes_download)}</div>
      </td>
      <td class="c-user">
        <div class="user">${r.user_name ?? r.user_id ?? html`<span class="muted">anonymous</span>`}</div>
        <div class="muted small">${r.user_name && r.user_id ? html`<span class="user-id">${r.user_id}</span> · ` : null}${AUTH_LABEL[(r.auth_method_used ?? '') as AuthMethod] ?? r.auth_method_used ?? ''}</div>
      </td>
    </tr>
  `;
}

export function EventsTable(
  props: SortProps & { records: ProxyEvent[]; fresh: Set<string>; onOpen: (id: string) => void },
) {
  const sort = (by: string, label: string) => html`<${SortButton} ...${props} by=${by} label=${label} />`;
  return html`
    <div class="table-wrap">
      <table class="events">
        <thead>
          <tr>
            <th class="c-time">${sort('timestamp', 'Time')}</th>
            <th class="c-loc">${sort('source_ip', 'Location')}</th>
            <th class="c-req">${sort('method', 'Method')}<span class="sep">·</span>${sort('host', 'Host')}<span class="sep">·</span>${sort('path', 'Path')}</th>
            <th class="c-status">${sort('status_code', 'Status')}<span class="sep">·</span>${sort('duration', 'Duration')}<span class="sep">·</span>${sort('reason', 'Reason')}</th>
            <th class="c-bytes">Bytes</th>
            <th class="c-user">${sort('user_id', 'User')}<span class="sep">·</span>${sort('auth_method', 'Auth')}</th>
          </tr>
        </thead>
        <tbody>
          ${props.records.map(
            (record) =>
              html`<${Row}
                key=${record.id}
                record=${record}
                selected=${props.view.detail === record.id}
                fresh=${props.fresh.has(record.id)}
                onOpen=${props.onOpen}
              />`,
          )}
        </tbody>
      </table>
    </div>
  `;
}

interface PagerProps {
  view: ViewState;
  result: EventsPage;
  onPage: (page: number, cursor: string | undefined) => void;
  onPageSize: (size: number) => void;
}

export function Pager(props: PagerProps) {
  const { view, result } = props;
  const first = (view.page - 1) * view.pageSize + (result.data.length > 0 ? 1 : 0);
  const last = (view.page - 1) * view.pageSize + result.data.length;
  const more = view.page < result.total_pages;
  // Offset paging works while the next page ends inside the window; past it, the cursor takes over.
  const offsetNext = view.page * view.pageSize + view.pageSize <= OFFSET_WINDOW && !view.cursor;
  const canNext = more && (offsetNext || Boolean(result.next_cursor));
  const next = () => props.onPage(view.page + 1, offsetNext ? undefined : (result.next_cursor ?? undefined));
  // The page before a cursor page is an offset page while it is inside the window; deeper, only
  // the history knows its cursor, so a shared deep link goes back to the first page.
  const prev = () => {
    if (!view.cursor || (view.page - 1) * view.pageSize <= OFFSET_WINDOW) props.onPage(view.page - 1, undefined);
    else if (cameFromThisPage()) history.back();
    else props.onPage(1, undefined);
  };
  return html`
    <div class="pager">
      <span class="range-count" data-testid="range-count">${count(first)}–${count(last)} of ${count(result.total_records)}</span>
      <label class="page-size">Rows
        <select value=${String(view.pageSize)} onChange=${(e: Event) => props.onPageSize(Number((e.target as HTMLSelectElement).value))}>
          ${PAGE_SIZES.map((size) => html`<option value=${String(size)}>${size}</option>`)}
        </select>
      </label>
      <button type="button" class="btn btn-ghost" data-page="first" disabled=${view.page <= 1} onClick=${() => props.onPage(1, undefined)}>«</button>
      <button type="button" class="btn btn-ghost" data-page="prev" disabled=${view.page <= 1} onClick=${prev}>‹ Prev</button>
      <span class="page-no">Page ${count(view.page)} of ${count(Math.max(1, result.total_pages))}${view.cursor ? html` <span class="badge" title="Beyond 10,000 records pages continue by cursor">cursor</span>` : null}</span>
      <button type="button" class="btn btn-ghost" data-page="next" disabled=${!canNext} onClick=${next}>Next ›</button>
    </div>
  `;
}
