// The Proxy Events page: sign-in, then the dashboard whose whole state is the URL.

import { html } from 'htm/preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiRequestError, apiFetch, apiJson, EVENTS_PATH, EXPORT_PATH, forgetToken, INSIGHTS_PATH, STATS_PATH, storedToken, type EventsPage } from './api.ts';
import { TimeChart, TopList } from './charts.ts';
import { Clock, ClockContext, type TimeZoneMode } from './clock.ts';
import { Detail } from './detail.ts';
import { FilterBar, rangeLabel } from './filter-bar.ts';
import { count, duration } from './format.ts';
import { InsightsBadge, InsightsPanel, type Finding, type InsightsResponse, type InsightsState } from './insights.ts';
import { SignIn } from './signin.ts';
import { chartData, dataSpan, type ChartData, type StatsResponse } from './stats.ts';
import { ColumnChooser, EventsTable, Pager } from './table.ts';
import { Toolbar } from './toolbar.ts';
import { useView } from './navigation.ts';
import {
  addFilter,
  DEFAULT_RANGE,
  filterParams,
  findingView,
  listParams,
  onlyFilter,
  parseView,
  removeFilter,
  serializeView,
  timeRange,
  withFilters,
  type ColumnId,
  type FilterParam,
} from './view-state.ts';

const LIVE_INTERVAL_MS = 5_000;

function countryLabel(charts: ChartData, code: string): string {
  const name = charts.topCountries.find((c) => c.key === code)?.name;
  return name ? `${code} · ${name}` : code;
}

function ErrorBanner(props: { error: ApiRequestError; onRetry: () => void; onReset: () => void }) {
  const e = props.error;
  let title: string;
  let body: string = e.message;
  if (e.status === 400) title = `The API rejected this view${e.parameter ? `: bad “${e.parameter}”` : ''} (400)`;
  else if (e.status === 503) {
    title = 'Elasticsearch is unavailable (503)';
    body = 'The API could not get an answer from Elasticsearch in time. Retry in a moment; with Live on, the page retries by itself.';
  } else if (e.status === 0) title = 'No connection to the API';
  else title = `The API answered ${e.status}`;
  return html`
    <div class=${`alert alert-error banner status-${e.status}`} role="alert" data-testid="error">
      <div><b>${title}</b><div>${body}</div></div>
      <div class="row-end">
        ${e.status === 400 ? html`<button type="button" class="btn" onClick=${props.onReset}>Reset the view</button>` : null}
        <button type="button" class="btn" onClick=${props.onRetry}>Retry</button>
      </div>
    </div>
  `;
}

function Dashboard(props: { token: string; onUnauthorized: () => void; onSignOut: () => void }) {
  const [view, go] = useView();
  const [tick, setTick] = useState(0);
  const [list, setList] = useState<EventsPage>();
  const [charts, setCharts] = useState<ChartData>();
  const [error, setError] = useState<ApiRequestError>();
  const [loading, setLoading] = useState(true);
  const [exporting, setExporting] = useState<string>();
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  /** The chart shows the whole range even when the requests fill only part of it. */
  const [wholeRange, setWholeRange] = useState(false);
  /** Whether the requests fill under a quarter of the range, so the chart can zoom to them. */
  const [focusable, setFocusable] = useState(false);
  const [insights, setInsights] = useState<InsightsState>({ kind: 'loading' });
  const [insightsOpen, setInsightsOpen] = useState(true);
  const clock = useMemo(() => new Clock(view.timeZone), [view.timeZone]);
  /** The view the shown data belongs to (the page URL without `detail`), for tests and for screen readers' busy state. */
  const [shownQuery, setShownQuery] = useState<string>();
  const seen = useRef<Set<string> | undefined>(undefined);
  const query = serializeView({ ...view, detail: undefined });

  useEffect(() => {
    const abort = new AbortController();
    const now = Date.now();
    setLoading(true);
    const filters = filterParams(view, now);
    Promise.all([
      apiJson<EventsPage>(EVENTS_PATH, listParams(view, now), props.token, abort.signal),
      apiJson<StatsResponse>(STATS_PATH, filters, props.token, abort.signal).then(async (stats) => {
        // Requests filling only a sliver of the range get the chart's whole width, in finer buckets.
        const range = timeRange(view, now);
        const span = range.start ? dataSpan(chartData(stats), Date.parse(range.start), range.end ? Date.parse(range.end) : now) : undefined;
        setFocusable(span !== undefined);
        if (!span || wholeRange) return stats;
        const narrowed = new URLSearchParams(filters);
        narrowed.set('start_date', new Date(span.start).toISOString());
        narrowed.set('end_date', new Date(span.end).toISOString());
        return apiJson<StatsResponse>(STATS_PATH, narrowed, props.token, abort.signal);
      }),
    ])
      .then(([page, stats]) => {
        const ids = new Set(page.data.map((r) => r.id));
        setFresh(seen.current ? new Set([...ids].filter((id) => !seen.current!.has(id))) : new Set());
        seen.current = ids;
        setList(page);
        setCharts(chartData(stats));
        setError(undefined);
        setShownQuery(query);
      })
      .catch((e: unknown) => {
        if (abort.signal.aborted) return;
        if (e instanceof ApiRequestError && e.status === 401) return props.onUnauthorized();
        setError(e instanceof ApiRequestError ? e : new ApiRequestError(0, String(e)));
        setShownQuery(query);
      })
      .finally(() => abort.signal.aborted || setLoading(false));
    return () => abort.abort();
  }, [query, tick, props.token, wholeRange]);

  // A new view starts without "new row" highlights; only live refreshes of the same view mark rows.
  useEffect(() => {
    seen.current = undefined;
  }, [query]);

  // Insights cover the time range, whatever the filters: they are what to look at next.
  const rangeKey = `${view.range}|${view.start}|${view.end}`;
  useEffect(() => {
    const abort = new AbortController();
    const { start, end } = timeRange(view, Date.now());
    const q = new URLSearchParams();
    if (start) q.set('start_date', start);
    if (end) q.set('end_date', end);
    apiJson<InsightsResponse>(INSIGHTS_PATH, q, props.token, abort.signal)
      .then((answer) => setInsights({ kind: 'ready', findings: answer.data }))
      .catch((e: unknown) => {
        if (abort.signal.aborted) return;
        if (e instanceof ApiRequestError && e.status === 401) return props.onUnauthorized();
        if (e instanceof ApiRequestError && e.status === 404) return setInsights({ kind: 'unavailable' });
        setInsights({ kind: 'failed', error: e instanceof ApiRequestError ? e : new ApiRequestError(0, String(e)) });
      });
    return () => abort.abort();
  }, [rangeKey, tick, props.token]);

  useEffect(() => {
    if (!view.live) return;
    const timer = setInterval(() => setTick((t) => t + 1), LIVE_INTERVAL_MS);
    return () => clearInterval(timer);
  }, [view.live]);

  const refresh = () => setTick((t) => t + 1);
  const add = (param: FilterParam, value: string) => go(addFilter(view, param, value));

  async function exportAs(format: 'csv' | 'ndjson') {
    setExporting(format);
    try {
      const q = filterParams(view, Date.now());
      q.set('format', format);
      q.set('sort_by', view.sortBy);
      q.set('sort_order', view.sortOrder);
      const blob = await (await apiFetch(EXPORT_PATH, q, props.token)).blob();
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = `proxy-events-${new Date().toISOString().slice(0, 19).replaceAll(':', '')}.${format}`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (e) {
      if (e instanceof ApiRequestError && e.status === 401) return props.onUnauthorized();
      setError(e instanceof ApiRequestError ? e : new ApiRequestError(0, String(e)));
    } finally {
      setExporting(undefined);
    }
  }

  const detail = view.detail ? list?.data.find((r) => r.id === view.detail) : undefined;
  const closeDetail = useCallback(() => go({ ...view, detail: undefined }, true), [view]);

  return html`<${ClockContext.Provider} value=${clock}>
    <${Toolbar}
      view=${view}
      onTimeZone=${(timeZone: TimeZoneMode) => go({ ...view, timeZone }, true)}
      insights=${html`<${InsightsBadge} state=${insights} open=${insightsOpen} onToggle=${() => setInsightsOpen(!insightsOpen)} />`}
      loading=${loading}
      exporting=${exporting}
      onPreset=${(range: string) => go(withFilters(view, { range, start: undefined, end: undefined }))}
      onCustom=${(start?: string, end?: string) => go(withFilters(view, { range: undefined, start, end }))}
      onLive=${(live: boolean) => go({ ...view, live }, true)}
      onRefresh=${refresh}
      onExport=${exportAs}
      onSignOut=${props.onSignOut}
    />
    <div class=${`progress${loading ? ' progress-on' : ''}`}></div>
    <main class="content" aria-busy=${loading} data-view=${shownQuery}>
      <${FilterBar}
        view=${view}
        onSearch=${(search: string) => go(withFilters(view, { search }))}
        onAdd=${add}
        onRemove=${(param: FilterParam, value: string) => go(removeFilter(view, param, value))}
        onClearSearch=${() => go(withFilters(view, { search: '' }))}
        onClearRange=${() => go(withFilters(view, { range: DEFAULT_RANGE, start: undefined, end: undefined }))}
        onClearAll=${() => go(withFilters(view, { filters: {}, search: '', range: view.range ?? DEFAULT_RANGE, start: undefined, end: undefined }))}
      />
      ${error ? html`<${ErrorBanner} error=${error} onRetry=${refresh} onReset=${() => go(parseView(''))} />` : null}
      ${insightsOpen && insights.kind !== 'unavailable'
        ? html`<${InsightsPanel} state=${insights} onShow=${(f: Finding) => go(findingView(view, f.filters))} onClose=${() => setInsightsOpen(false)} />`
        : null}
      ${charts
        ? html`<section class="charts">
            <${TimeChart}
              buckets=${charts.overTime}
              intervalMs=${charts.intervalMs}
              span=${{ focused: focusable && !wholeRange, onWhole: () => setWholeRange(true), onFocus: focusable ? () => setWholeRange(false) : undefined }}
              onRange=${(from: number, to: number) =>
                go(withFilters(view, { range: undefined, start: new Date(from).toISOString(), end: new Date(to).toISOString() }))}
              onCategory=${(category: string) => add('category', category)}
            />
            <${TopList} title="Top hosts" name="top-hosts" items=${charts.topHosts} color="#cfe0ff" empty="No requests." onPick=${(k: string) => add('host', k)} />
            <${TopList} title="Top source countries" name="top-countries" items=${charts.topCountries} color="#d8efe4" empty="No located requests." label=${(k: string) => countryLabel(charts, k)} onPick=${(k: string) => add('country_code', k)} />
            <${TopList} title="Top denial reasons" name="top-reasons" items=${charts.topReasons} color="#fde2cf" empty="Nothing denied." onPick=${(k: string) => add('reason', k)} />
          </section>`
        : null}
      <section class="panel results">
        ${list
          ? html`
              <header class="results-head">
                <h2>
                  <b data-testid="total">${count(list.total_records)}</b> requests <span class="muted">· ${rangeLabel(view, clock)} · ${clock.label}</span>
                  ${charts?.p50 != null ? html`<span class="muted small latency" title="Duration percentiles of the matching requests"> · p50 ${duration(charts.p50)} · p95 ${duration(charts.p95 ?? undefined)}</span>` : null}
                </h2>
                <${ColumnChooser} columns=${view.columns} onChange=${(columns: ColumnId[]) => go({ ...view, columns }, true)} />
                <${Pager} view=${view} result=${list} onPage=${(page: number, cursor?: string) => go({ ...view, page, cursor, detail: undefined })} onPageSize=${(pageSize: number) => go(withFilters(view, { pageSize }))} />
              </header>
              ${list.data.length === 0
                ? html`<div class="empty" data-testid="empty">
                    <div class="empty-title">No requests match</div>
                    <p class="muted">Nothing in ${rangeLabel(view, clock).toLowerCase()} with these filters.</p>
                    <div class="row-center">
                      ${view.range !== '30d' ? html`<button type="button" class="btn" onClick=${() => go(withFilters(view, { range: '30d', start: undefined, end: undefined }))}>Widen to 30 days</button>` : null}
                      <button type="button" class="btn" onClick=${() => go(withFilters(view, { filters: {}, search: '' }))}>Clear filters</button>
                    </div>
                  </div>`
                : html`<${EventsTable} view=${view} records=${list.data} fresh=${fresh} onSort=${(by: string) =>
                    go({ ...view, sortBy: by, sortOrder: view.sortBy === by && view.sortOrder === 'desc' ? 'asc' : 'desc', page: 1, cursor: undefined })}
                    onOpen=${(id: string) => go({ ...view, detail: id }, view.detail !== undefined)} />`}
            `
          : error
            ? html`<div class="empty"><p class="muted">No records to show until the API answers.</p></div>`
            : html`<div class="empty"><div class="spinner"></div><p class="muted">Loading requests…</p></div>`}
      </section>
    </main>
    ${detail ? html`<${Detail} record=${detail} onClose=${closeDetail} onOnly=${(param: FilterParam, value: string) => go(onlyFilter(view, param, value))} />` : null}
  </${ClockContext.Provider}>`;
}

export function App() {
  const [token, setToken] = useState(storedToken());
  const [message, setMessage] = useState<string>();
  if (!token) {
    return html`<${SignIn} message=${message} onSignedIn=${(t: string) => (setMessage(undefined), setToken(t))} />`;
  }
  return html`<${Dashboard}
    token=${token}
    onUnauthorized=${() => {
      forgetToken();
      setMessage('The API no longer accepts this token (401). Sign in again.');
      setToken(undefined);
    }}
    onSignOut=${() => {
      forgetToken();
      setMessage(undefined);
      setToken(undefined);
    }}
  />`;
}
