// The whole view lives in the page URL, so a view can be bookmarked, shared and reloaded.
// Page URL keys are the API's own parameter names, plus `range` (a relative time preset),
// `detail` (the open record), `live` (auto-refresh), `tz` (times in UTC rather than local) and
// `columns` (the table's columns, in order), which never reach the API.

import { TIME_ZONE_MODES, type TimeZoneMode } from './clock.ts';

export const RANGE_PRESETS = [
  { key: '15m', label: '15 min', long: 'Last 15 minutes', ms: 15 * 60_000 },
  { key: '1h', label: '1 h', long: 'Last hour', ms: 60 * 60_000 },
  { key: '24h', label: '24 h', long: 'Last 24 hours', ms: 24 * 60 * 60_000 },
  { key: '7d', label: '7 d', long: 'Last 7 days', ms: 7 * 24 * 60 * 60_000 },
  { key: '30d', label: '30 d', long: 'Last 30 days', ms: 30 * 24 * 60 * 60_000 },
] as const;
export const DEFAULT_RANGE = '24h';

export const PAGE_SIZES = [25, 50, 100] as const;
export const DEFAULT_PAGE_SIZE = 50;
export const DEFAULT_SORT = { by: 'timestamp', order: 'desc' } as const;

/** Field filters: a repeated key means any of its values, as in the API. */
export const FILTER_PARAMS = [
  'category',
  'status',
  'status_code',
  'method',
  'host',
  'service_id',
  'path',
  'user_id',
  'user_email',
  'user_name',
  'source_ip',
  'country_code',
  'city',
  'auth_method',
  'reason',
] as const;
export type FilterParam = (typeof FILTER_PARAMS)[number];

/** The table's columns; the first six are shown unless the URL picks others. */
export const COLUMN_IDS = ['time', 'source', 'request', 'status', 'bytes', 'user', 'service', 'agent'] as const;
export type ColumnId = (typeof COLUMN_IDS)[number];
export const DEFAULT_COLUMNS: readonly ColumnId[] = ['time', 'source', 'request', 'status', 'bytes', 'user'];

export interface ViewState {
  /** A preset key, or undefined when start/end give a custom range. */
  range: string | undefined;
  start: string | undefined;
  end: string | undefined;
  search: string;
  filters: Partial<Record<FilterParam, string[]>>;
  sortBy: string;
  sortOrder: 'asc' | 'desc';
  page: number;
  pageSize: number;
  cursor: string | undefined;
  detail: string | undefined;
  live: boolean;
  timeZone: TimeZoneMode;
  columns: readonly ColumnId[];
}

function parseColumns(value: string | null): readonly ColumnId[] {
  if (value === null) return DEFAULT_COLUMNS;
  const picked = value.split(',').filter((id): id is ColumnId => (COLUMN_IDS as readonly string[]).includes(id));
  return picked.length > 0 ? [...new Set(picked)] : DEFAULT_COLUMNS;
}

function positiveInt(value: string | null, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

export function parseView(query: string): ViewState {
  const q = new URLSearchParams(query);
  const filters: ViewState['filters'] = {};
  for (const param of FILTER_PARAMS) {
    const values = q.getAll(param).filter((v) => v !== '');
    if (values.length > 0) filters[param] = values;
  }
  const start = q.get('start_date') ?? undefined;
  const end = q.get('end_date') ?? undefined;
  const range = q.get('range') ?? (start || end ? undefined : DEFAULT_RANGE);
  return {
    range,
    start,
    end,
    search: q.get('search') ?? '',
    filters,
    sortBy: q.get('sort_by') ?? DEFAULT_SORT.by,
    sortOrder: q.get('sort_order') === 'asc' ? 'asc' : 'desc',
    page: positiveInt(q.get('page'), 1),
    pageSize: positiveInt(q.get('page_size'), DEFAULT_PAGE_SIZE),
    cursor: q.get('cursor') ?? undefined,
    detail: q.get('detail') ?? undefined,
    live: q.get('live') === '1',
    timeZone: TIME_ZONE_MODES.find((mode) => mode === q.get('tz')) ?? 'local',
    columns: parseColumns(q.get('columns')),
  };
}

export function serializeView(view: ViewState): string {
  const q = new URLSearchParams();
  if (view.range) {
    if (view.range !== DEFAULT_RANGE) q.set('range', view.range);
  } else {
    if (view.start) q.set('start_date', view.start);
    if (view.end) q.set('end_date', view.end);
  }
  if (view.search) q.set('search', view.search);
  for (const param of FILTER_PARAMS) for (const value of view.filters[param] ?? []) q.append(param, value);
  if (view.sortBy !== DEFAULT_SORT.by) q.set('sort_by', view.sortBy);
  if (view.sortOrder !== DEFAULT_SORT.order) q.set('sort_order', view.sortOrder);
  if (view.pageSize !== DEFAULT_PAGE_SIZE) q.set('page_size', String(view.pageSize));
  // With a cursor the page number is only shown (the cursor alone says where the page starts).
  if (view.page !== 1) q.set('page', String(view.page));
  if (view.cursor) q.set('cursor', view.cursor);
  if (view.detail) q.set('detail', view.detail);
  if (view.live) q.set('live', '1');
  if (view.timeZone !== 'local') q.set('tz', view.timeZone);
  if (view.columns.join(',') !== DEFAULT_COLUMNS.join(',')) q.set('columns', view.columns.join(','));
  return q.toString();
}

/** The time range the view means at `now`: a preset is relative, so it moves with the clock. */
export function timeRange(view: ViewState, now: number): { start?: string; end?: string } {
  const preset = RANGE_PRESETS.find((p) => p.key === view.range);
  if (preset) return { start: new Date(now - preset.ms).toISOString() };
  return { start: view.start, end: view.end };
}

/** The filter part shared by the list, stats and export requests. */
export function filterParams(view: ViewState, now: number): URLSearchParams {
  const q = new URLSearchParams();
  const { start, end } = timeRange(view, now);
  if (start) q.set('start_date', start);
  if (end) q.set('end_date', end);
  if (view.search.trim()) q.set('search', view.search.trim());
  for (const param of FILTER_PARAMS) for (const value of view.filters[param] ?? []) q.append(param, value);
  return q;
}

export function listParams(view: ViewState, now: number): URLSearchParams {
  const q = filterParams(view, now);
  q.set('sort_by', view.sortBy);
  q.set('sort_order', view.sortOrder);
  q.set('page_size', String(view.pageSize));
  if (view.cursor) q.set('cursor', view.cursor);
  else q.set('page', String(view.page));
  return q;
}

/** A change of what is shown starts again at the first page and closes the record. */
export function withFilters(view: ViewState, change: Partial<ViewState>): ViewState {
  return { ...view, page: 1, cursor: undefined, detail: undefined, ...change };
}

export function addFilter(view: ViewState, param: FilterParam, value: string): ViewState {
  const current = view.filters[param] ?? [];
  if (current.includes(value)) return view;
  return withFilters(view, { filters: { ...view.filters, [param]: [...current, value] } });
}

export function removeFilter(view: ViewState, param: FilterParam, value: string): ViewState {
  const rest = (view.filters[param] ?? []).filter((v) => v !== value);
  const filters = { ...view.filters };
  if (rest.length > 0) filters[param] = rest;
  else delete filters[param];
  return withFilters(view, { filters });
}

/** Only these filters, keeping the time range: what the "requests from this IP" shortcuts open. */
export function onlyFilter(view: ViewState, param: FilterParam, value: string): ViewState {
  return withFilters(view, { filters: { [param]: [value] }, search: '' });
}

/**
 * The view an insight's "show the events" opens: exactly the finding's filter set (its time range
 * included), keeping how the page shows things (sort, page size, columns, zone).
 */
export function findingView(view: ViewState, filters: Record<string, string | readonly string[]>): ViewState {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) for (const v of typeof value === 'string' ? [value] : value) q.append(key, v);
  const found = parseView(q.toString());
  return withFilters(view, { range: found.range, start: found.start, end: found.end, search: found.search, filters: found.filters });
}
