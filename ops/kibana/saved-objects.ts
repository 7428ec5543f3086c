// Saved objects for the proxy events, for Kibana and for OpenSearch Dashboards: a data view (index
// pattern) on `<prefix>-*`, a saved search with the page's columns, the page's four charts as
// aggregation-based visualizations (which both apps read; OpenSearch Dashboards has no Lens), and a
// dashboard holding them. Every field name comes from FIELD (common/proxy-event-document.ts); what
// differs between the two apps is in APPS.

import { FIELD, indexPattern } from '../../common/proxy-event-document.ts';

export interface DashboardsApp {
  name: string;
  /** The committed import file, for the default prefix. */
  file: URL;
  /** Kibana 8 gives a data view a name of its own; an OpenSearch Dashboards index pattern has only its title. */
  namesDataViews: boolean;
  /** The version each dashboard panel says saved it: the app's own line, past 7.3, so neither app migrates the layout. */
  panelVersion: string;
}

export const APPS = {
  kibana: { name: 'Kibana', file: new URL('./saved-objects.ndjson', import.meta.url), namesDataViews: true, panelVersion: '8.0.0' },
  'opensearch-dashboards': {
    name: 'OpenSearch Dashboards',
    file: new URL('../opensearch-dashboards/saved-objects.ndjson', import.meta.url),
    namesDataViews: false,
    panelVersion: '7.10.2',
  },
} as const satisfies Record<string, DashboardsApp>;

export type App = keyof typeof APPS;

export interface SavedObject {
  type: 'index-pattern' | 'search' | 'visualization' | 'dashboard';
  id: string;
  attributes: Record<string, unknown>;
  references: { name: string; type: string; id: string }[];
}

/** The saved search's columns, in the page's order: location, request, status, bytes, user. */
export const SEARCH_COLUMNS = [
  FIELD.sourceIp,
  FIELD.countryCode,
  FIELD.cityName,
  FIELD.method,
  FIELD.domain,
  FIELD.path,
  FIELD.statusCode,
  FIELD.reason,
  FIELD.eventDuration,
  FIELD.bytesIn,
  FIELD.bytesOut,
  FIELD.userId,
  FIELD.userName,
  FIELD.authMethod,
] as const;

/** The charts of the page: each is a count of requests by one field (the first also over time). */
export const CHARTS = [
  { key: 'requests-over-time', title: 'Requests over time by outcome', chart: 'histogram', time: FIELD.timestamp, terms: FIELD.category, size: 4 },
  { key: 'top-hosts', title: 'Top hosts', chart: 'horizontal_bar', terms: FIELD.domain, size: 10 },
  { key: 'top-countries', title: 'Top source countries', chart: 'pie', terms: FIELD.countryCode, size: 10 },
  { key: 'top-denial-reasons', title: 'Top denial reasons', chart: 'horizontal_bar', terms: FIELD.reason, size: 10, deniedOnly: true },
] as const;

export type Chart = (typeof CHARTS)[number];

const INDEX_REF = 'kibanaSavedObjectMeta.searchSourceJSON.index';

function searchSource(query = ''): Record<string, string> {
  return {
    searchSourceJSON: JSON.stringify({ query: { query, language: 'kuery' }, filter: [], indexRefName: INDEX_REF }),
  };
}

/** KQL for the denied requests only. */
export function deniedQuery(): string {
  return `${FIELD.category} : "denied"`;
}

function visState(chart: Chart): Record<string, unknown> {
  const count = { id: '1', enabled: true, type: 'count', params: {}, schema: 'metric' };
  const terms = (id: string, schema: string) => ({
    id,
    enabled: true,
    type: 'terms',
    schema,
    params: { field: chart.terms, size: chart.size, order: 'desc', orderBy: '1', otherBucket: false, missingBucket: false },
  });
  if (chart.chart === 'pie') {
    return { title: chart.title, type: 'pie', aggs: [count, terms('2', 'segment')], params: { type: 'pie', addTooltip: true, legendPosition: 'right', isDonut: true, labels: { show: true, values: true, truncate: 100 } } };
  }
  const series = { show: true, type: 'histogram', mode: chart.chart === 'histogram' ? 'stacked' : 'normal', data: { label: 'Requests', id: '1' }, valueAxis: 'ValueAxis-1' };
  const common = {
    type: chart.chart,
    addTooltip: true,
    addLegend: chart.chart === 'histogram',
    legendPosition: 'right',
    categoryAxes: [{ id: 'CategoryAxis-1', type: 'category', position: chart.chart === 'histogram' ? 'bottom' : 'left', show: true, scale: { type: 'linear' }, labels: { show: true, filter: chart.chart === 'histogram', truncate: 200 }, title: {} }],
    valueAxes: [{ id: 'ValueAxis-1', name: 'LeftAxis-1', type: 'value', position: chart.chart === 'histogram' ? 'left' : 'bottom', show: true, scale: { type: 'linear', mode: 'normal' }, labels: { show: true, filter: false, truncate: 100 }, title: { text: 'Requests' } }],
    seriesParams: [series],
    grid: { categoryLines: false },
    times: [],
    addTimeMarker: false,
    labels: { show: false },
    thresholdLine: { show: false, value: 10, width: 1, style: 'full', color: '#E7664C' },
  };
  if (chart.chart === 'histogram') {
    const overTime = { id: '2', enabled: true, type: 'date_histogram', schema: 'segment', params: { field: chart.time, interval: 'auto', min_doc_count: 1, extended_bounds: {} } };
    return { title: chart.title, type: 'histogram', aggs: [count, overTime, terms('3', 'group')], params: common };
  }
  return { title: chart.title, type: chart.chart, aggs: [count, terms('2', 'segment')], params: common };
}

export function savedObjects(prefix: string, app: App): SavedObject[] {
  const { namesDataViews, panelVersion } = APPS[app];
  const dataViewId = `${prefix}-data-view`;
  const indexRef = [{ name: INDEX_REF, type: 'index-pattern', id: dataViewId }];
  const dataView: SavedObject = {
    type: 'index-pattern',
    id: dataViewId,
    attributes: { title: indexPattern(prefix), ...(namesDataViews ? { name: `Proxy events (${prefix})` } : {}), timeFieldName: FIELD.timestamp },
    references: [],
  };
  const search: SavedObject = {
    type: 'search',
    id: `${prefix}-requests`,
    attributes: {
      title: 'Proxy requests',
      description: 'Every request through the proxy: where from, what, the outcome and who.',
      columns: [...SEARCH_COLUMNS],
      sort: [[FIELD.timestamp, 'desc']],
      kibanaSavedObjectMeta: searchSource(),
    },
    references: indexRef,
  };
  const visualizations: SavedObject[] = CHARTS.map((chart) => ({
    type: 'visualization',
    id: `${prefix}-${chart.key}`,
    attributes: {
      title: chart.title,
      description: '',
      uiStateJSON: '{}',
      version: 1,
      visState: JSON.stringify(visState(chart)),
      kibanaSavedObjectMeta: searchSource('deniedOnly' in chart ? deniedQuery() : ''),
    },
    references: indexRef,
  }));
  // 48 columns wide: the time chart across the top, three top-N charts below, the table last.
  const grid = [
    { x: 0, y: 0, w: 48, h: 12 },
    { x: 0, y: 12, w: 16, h: 14 },
    { x: 16, y: 12, w: 16, h: 14 },
    { x: 32, y: 12, w: 16, h: 14 },
    { x: 0, y: 26, w: 48, h: 22 },
  ];
  const panels = [...visualizations, search].map((object, i) => ({
    version: panelVersion,
    type: object.type,
    panelIndex: String(i + 1),
    gridData: { ...grid[i]!, i: String(i + 1) },
    embeddableConfig: {},
    panelRefName: `panel_${i + 1}`,
  }));
  const dashboard: SavedObject = {
    type: 'dashboard',
    id: `${prefix}-dashboard`,
    attributes: {
      title: 'Proxy events',
      description: 'Who accessed which service, from where, with which auth method; why requests were denied; which service is busiest and when.',
      panelsJSON: JSON.stringify(panels),
      optionsJSON: JSON.stringify({ useMargins: true, hidePanelTitles: false }),
      timeRestore: true,
      timeFrom: 'now-24h',
      timeTo: 'now',
      refreshInterval: { pause: true, value: 60_000 },
      version: 1,
      kibanaSavedObjectMeta: { searchSourceJSON: JSON.stringify({ query: { query: '', language: 'kuery' }, filter: [] }) },
    },
    references: [...visualizations, search].map((object, i) => ({ name: `panel_${i + 1}`, type: object.type, id: object.id })),
  };
  return [dataView, search, ...visualizations, dashboard];
}

/** The import file: one object a line, as both apps' `_import` API and UI expect. */
export function savedObjectsNdjson(prefix: string, app: App): string {
  return savedObjects(prefix, app).map((object) => JSON.stringify(object)).join('\n') + '\n';
}
