// The derived figures both the tables and the chart use: ratios against the targets, one-core
// capacity from CPU per request, and the chart's panels.

import { DIRECT, THIS_OFF, THIS_ON, UNDICI_PEER, type ProxyRow, type ProxySuiteResult, type Scenario } from '../peers/proxy-suite.ts';
import { RAW, RSYSLOG, SHIPPER, type ShipperSuiteResult } from '../peers/shipper-suite.ts';
import type { Panel } from './chart.ts';
import type { BenchResults } from './results.ts';

export function row(proxy: ProxySuiteResult, peer: string, scenario: Scenario): ProxyRow | undefined {
  return proxy.rows.find((item) => item.peer === peer && item.scenario === scenario);
}

/** Requests/s one core could serve at the measured CPU cost per request. */
export function oneCoreCapacity(item: ProxyRow): number {
  return 1e6 / item.cpu_us_per_request.median;
}

/** this proxy (log on) against a peer: by measured req/s and by one-core capacity (CPU per request). */
export interface Versus {
  rps: number;
  capacity: number;
}

export interface ProxyRatios {
  scenario: Scenario;
  vsUndici: Versus | undefined;
  vsCaddy: Versus | undefined;
  vsNginx: Versus | undefined;
  /** CPU per request with the log on over log off, minus one: what the access log costs. */
  logCost: number | undefined;
}

export function proxyRatios(proxy: ProxySuiteResult, scenario: Scenario): ProxyRatios | undefined {
  const ours = row(proxy, THIS_ON, scenario);
  if (!ours) return undefined;
  const versus = (peer: string): Versus | undefined => {
    const other = row(proxy, peer, scenario);
    return other && { rps: ours.rps.median / other.rps.median, capacity: oneCoreCapacity(ours) / oneCoreCapacity(other) };
  };
  const off = row(proxy, THIS_OFF, scenario);
  return {
    scenario,
    vsUndici: versus(UNDICI_PEER),
    vsCaddy: versus('Caddy'),
    vsNginx: versus('nginx'),
    logCost: off && ours.cpu_us_per_request.median / off.cpu_us_per_request.median - 1,
  };
}

export function shipperRatios(shipper: ShipperSuiteResult): { vsRsyslog: number; vsCeiling: number } | undefined {
  const find = (name: string) => shipper.rows.find((item) => item.contestant === name);
  const ours = find(SHIPPER);
  const rsyslog = find(RSYSLOG);
  const raw = find(RAW);
  if (!ours || !rsyslog || !raw) return undefined;
  return { vsRsyslog: ours.lines_per_s.median / rsyslog.lines_per_s.median, vsCeiling: ours.lines_per_s.median / raw.lines_per_s.median };
}

const COLORS = { small: '#2f6db5', large: '#e08a1e', p50: '#6aa84f', p99: '#b03a2e', p999: '#6d1f17', shipper: '#7b4fa0', engines: ['#00a3a3', '#c0467a'] };
const ours = (category: string) => category === THIS_ON || category === THIS_OFF || category === SHIPPER || category.startsWith('this');

function proxyPeers(proxy: ProxySuiteResult): string[] {
  return [...new Set(proxy.rows.map((item) => item.peer))].filter((peer) => peer !== DIRECT).concat(DIRECT);
}

export function chartPanels(results: BenchResults): Panel[] {
  const panels: Panel[] = [];
  const proxy = results.proxy;
  if (proxy) {
    const peers = proxyPeers(proxy);
    const summary = (peer: string, scenario: Scenario, pick: (item: ProxyRow) => { median: number; min: number; max: number }) => {
      const item = row(proxy, peer, scenario);
      return item ? pick(item) : undefined;
    };
    panels.push({
      title: 'Proxy throughput',
      unit: 'requests/s, median of runs (whisker: lowest to highest run); proxy on 1 core',
      categories: peers,
      series: [
        { name: '1 KiB body', color: COLORS.small, values: peers.map((peer) => summary(peer, 'small', (item) => item.rps)) },
        { name: '64 KiB body', color: COLORS.large, values: peers.map((peer) => summary(peer, 'large', (item) => item.rps)) },
      ],
      highlight: ours,
    });
    panels.push({
      title: 'Proxy latency (1 KiB body)',
      unit: `milliseconds at ${proxy.connections} connections, median of runs`,
      categories: peers,
      series: [
        { name: 'p50', color: COLORS.p50, values: peers.map((peer) => summary(peer, 'small', (item) => item.p50_ms)) },
        { name: 'p99', color: COLORS.p99, values: peers.map((peer) => summary(peer, 'small', (item) => item.p99_ms)) },
        { name: 'p99.9', color: COLORS.p999, values: peers.map((peer) => summary(peer, 'small', (item) => item.p999_ms)) },
      ],
      highlight: ours,
    });
    const withoutDirect = peers.filter((peer) => peer !== DIRECT);
    panels.push({
      title: 'Proxy CPU cost',
      unit: 'CPU µs per request (lower is better)',
      categories: withoutDirect,
      series: [
        { name: '1 KiB body', color: COLORS.small, values: withoutDirect.map((peer) => summary(peer, 'small', (item) => item.cpu_us_per_request)) },
        { name: '64 KiB body', color: COLORS.large, values: withoutDirect.map((peer) => summary(peer, 'large', (item) => item.cpu_us_per_request)) },
      ],
      highlight: ours,
    });
  }
  const shipper = results.shipper;
  if (shipper) {
    const categories = shipper.rows.map((item) => item.contestant as string);
    const values = shipper.rows.map((item) => item.lines_per_s as { median: number; min?: number; max?: number } | undefined);
    const scale = results.scale?.ingest ?? [];
    panels.push({
      title: 'Shipping into one Elasticsearch node',
      unit: `lines/s until searchable, ${shipper.lines.toLocaleString('en')}-line backlog; and N shippers together`,
      categories: [...categories, ...scale.map((step) => `${step.shippers} shipper${step.shippers > 1 ? 's' : ''} together`)],
      series: [{ name: 'lines/s', color: COLORS.shipper, values: [...values, ...scale.map((step) => ({ median: step.lines_per_s }))] }],
      highlight: ours,
    });
  }
  const engines = results.engines;
  if (engines) {
    const names = engines.engines.map((item) => `${item.name} ${item.version}`);
    panels.push({
      title: 'Engines: shipping',
      unit: `this shipper's lines/s until searchable, ${engines.lines.toLocaleString('en')}-line backlog, median of runs`,
      categories: names,
      series: [{ name: 'lines/s', color: COLORS.shipper, values: engines.engines.map((item) => item.ship.lines_per_s) }],
    });
    panels.push({
      title: 'Engines: API queries',
      unit: `API p50 ms at ${engines.docs.toLocaleString('en')} documents`,
      categories: engines.engines[0]?.queries.map((row) => row.query) ?? [],
      series: engines.engines.map((item, index) => ({ name: item.name, color: COLORS.engines[index % COLORS.engines.length]!, values: item.queries.map((row) => ({ median: row.api_p50 })) })),
    });
  }
  return panels;
}
