// The records table with sortable headers and chosen columns, the column chooser, and the pager
// (offset pages, then cursor beyond the window).

import { html } from 'htm/preact';
import type { AuthMethod } from '../../../common/access-record.ts';
import { useContext, useState } from 'preact/hooks';
import type { EventsPage, ProxyEvent } from './api.ts';
import { ClockContext, type Clock } from './clock.ts';
import { cameFromThisPage } from './navigation.ts';
import { AUTH_LABEL, CATEGORY_LABEL, bytes, count, duration } from './format.ts';
import { COLUMN_IDS, PAGE_SIZES, type ColumnId, type ViewState } from './view-state.ts';

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

type Sorter = (by: string, label: string) => unknown;
const SEP = html`<span class="sep">·</span>`;

interface Column {
  label: string;
  header: (sort: Sorter) => unknown;
  cell: (r: ProxyEvent, clock: Clock) => unknown;
}

/** Every column the table can show; the view picks which and in what order. */
export const COLUMNS: Record<ColumnId, Column> = {
  time: {
    label: 'Time',
    header: (sort) => sort('timestamp', 'Time'),
    cell: (r, clock) => {
      const ms = Date.parse(r.timestamp);
      return html`<time datetime=${r.timestamp} title=${clock.iso(ms)}><span class="muted">${clock.date(ms)}</span> ${clock.time(ms)}</time>`;
    },
  },
  source: {
    label: 'Location',
    header: (sort) => sort('source_ip', 'Location'),
    cell: (r) => html`
      <div class="ip mono" title=${r.source_ip}>${r.source_ip}</div>
      <div class="muted small">${r.country_code ? html`<span class="cc">${r.country_code}</span> ` : null}${r.city_name ?? r.country_name ?? 'unknown location'}</div>
    `,
  },
  request: {
    label: 'Request',
    header: (sort) => [sort('method', 'Method'), SEP, sort('host', 'Host'), SEP, sort('path', 'Path')],
    cell: (r) => html`
      <div><span class="method">${r.method}</span> <span class="host">${r.host}</span></div>
      <div class="path mono" title=${r.path}>${r.path}</div>
    `,
  },
  status: {
    label: 'Status',
    header: (sort) => [sort('status_code', 'Status'), SEP, sort('duration', 'Duration'), SEP, sort('reason', 'Reason')],
    cell: (r) => html`
      <div>
        <span class=${`status status-${r.category}`} title=${CATEGORY_LABEL[r.category] ?? r.category}>${r.status_code}</span>
        <span class="muted small dur">${duration(r.duration_ms)}</span>
      </div>
      ${r.reason ? html`<div class="reason small" title=${r.reason}>${r.reason}</div>` : null}
    `,
  },
  bytes: {
    label: 'Bytes',
    header: () => 'Bytes',
    cell: (r) => html`
      <div class="small" title="received from the client">↑ ${bytes(r.bytes_upload)}</div>
      <div class="small" title="sent to the client">↓ ${bytes(r.bytes_download)}</div>
    `,
  },
  user: {
    label: 'User',
    header: (sort) => [sort('user_id', 'User'), SEP, sort('auth_method', 'Auth')],
    cell: (r) => html`
      <div class="user" title=${r.user_id ?? ''}>${r.user_name ?? r.user_id ?? html`<span class="muted">anonymous</span>`}</div>
      <div class="muted small">${r.user_name && r.user_id ? html`<span class="user-id">${r.user_id}</span> · ` : null}${AUTH_LABEL[(r.auth_method_used ?? '') as AuthMethod] ?? r.auth_method_used ?? ''}</div>
    `,
  },
  service: {
    label: 'Service',
    header: () => 'Service',
    cell: (r) => html`<span class="mono">${r.service_id ?? '–'}</span>`,
  },
  agent: {
    label: 'User agent',
    header: () => 'User agent',
    cell: (r) => html`<div class="agent small" title=${r.user_agent ?? ''}>${r.user_agent ?? '–'}</div>`,
  },
};

function Row(props: { record: ProxyEvent; columns: readonly ColumnId[]; selected: boolean; fresh: boolean; onOpen: (id: string) => void }) {
  const r = props.record;
  const clock = useContext(ClockContext);
  const cls = ['row', props.selected ? 'row-selected' : '', props.fresh ? 'row-fresh' : ''].join(' ');
  return html`
    <tr
      class=${cls}
      tabindex="0"
      data-id=${r.id}
      data-outcome=${r.category}
      onClick=${() => props.onOpen(r.id)}
      onKeyDown=${(e: KeyboardEvent) => e.key === 'Enter' && props.onOpen(r.id)}
    >
      ${props.columns.map((id) => html`<td class=${`c-${id}`} data-column=${id} data-label=${COLUMNS[id].label}>${COLUMNS[id].cell(r, clock)}</td>`)}
    </tr>
  `;
}

export function EventsTable(
  props: SortProps & { records: ProxyEvent[]; fresh: Set<string>; onOpen: (id: string) => void },
) {
  const sort: Sorter = (by, label) => html`<${SortButton} view=${props.view} onSort=${props.onSort} by=${by} label=${label} />`;
  const columns = props.view.columns;
  return html`
    <div class="table-wrap">
      <table class="events">
        <thead>
          <tr>${columns.map((id) => html`<th class=${`c-${id}`} data-column=${id}>${COLUMNS[id].header(sort)}</th>`)}</tr>
        </thead>
        <tbody>
          ${props.records.map(
            (record) =>
              html`<${Row}
                key=${record.id}
                record=${record}
                columns=${columns}
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

/** Pick the table's columns and their order; the choice goes to the URL like the rest of the view. */
export function ColumnChooser(props: { columns: readonly ColumnId[]; onChange: (columns: ColumnId[]) => void }) {
  const [open, setOpen] = useState(false);
  const shown = props.columns;
  const hidden = COLUMN_IDS.filter((id) => !shown.includes(id));
  const move = (id: ColumnId, by: -1 | 1) => {
    const next = [...shown];
    const at = next.indexOf(id);
    next.splice(at, 1);
    next.splice(at + by, 0, id);
    props.onChange(next);
  };
  const toggle = (id: ColumnId) => props.onChange(shown.includes(id) ? shown.filter((c) => c !== id) : [...shown, id]);
  return html`
    <div class="menu-wrap">
      <button type="button" class="btn" data-action="columns" aria-expanded=${open} onClick=${() => setOpen(!open)}>Columns ▾</button>
      ${open
        ? html`<div class="popover columns-menu" role="dialog" aria-label="Columns">
            <ol>
              ${[...shown, ...hidden].map((id) => {
                const on = shown.includes(id);
                const at = shown.indexOf(id);
                return html`<li data-column=${id}>
                  <label><input type="checkbox" checked=${on} disabled=${on && shown.length === 1} onChange=${() => toggle(id)} /> ${COLUMNS[id].label}</label>
                  <span class="spacer"></span>
                  <button type="button" class="btn btn-small" data-move="up" aria-label=${`Move ${COLUMNS[id].label} left`} disabled=${!on || at === 0} onClick=${() => move(id, -1)}>↑</button>
                  <button type="button" class="btn btn-small" data-move="down" aria-label=${`Move ${COLUMNS[id].label} right`} disabled=${!on || at === shown.length - 1} onClick=${() => move(id, 1)}>↓</button>
                </li>`;
              })}
            </ol>
            <p class="fine">Kept in the page address, like the filters.</p>
          </div>`
        : null}
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
