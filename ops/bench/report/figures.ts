// The derived figures both the tables and the chart use: ratios against the targets, one-core
// capacity from CPU per request, and the chart's panels.

import { DIRECT, NODE_PEERS, THIS_OFF, THIS_ON, type ProxyRow, type ProxySuiteResult, type Scenario } from '../peers/proxy-suite.ts';
import { RAW, RSYSLOG, SHIPPER, type ShipperSuiteResult } from '../peers/shipper-suite.ts';
import type { Panel } from './chart.ts';
import type { BenchResults } from './results.ts';

export function row(proxy: ProxySuiteResult, peer: string, scenario: Scenario): ProxyRow | undefined {
  return proxy.rows.find((item) => item.peer === peer && item.scenario === scenario);
}

/** Requests/s one core could serve at the measured CPU cost per request. */
export function oneCoreCapacity(item: ProxyRow): number {
  return 10_000 / item.cpu_s_per_10k.median;
}

export interface ProxyRatios {
  scenario: Scenario;
  bestNodePeer: string;
  /** this proxy (log on) / best Node peer, and / nginx: measured req/s and one-core capacity. */
  vsNode: { rps: number; capacity: number };
  vsNginx: { rps: number; capacity: number };
}

export function proxyRatios(proxy: ProxySuiteResult, scenario: Scenario): ProxyRatios | undefined {
  const ours = row(proxy, THIS_ON, scenario);
  const nginx = row(proxy, 'nginx', scenario);
  const nodes = NODE_PEERS.map((peer) => row(proxy, peer, scenario)).filter((item): item is ProxyRow => item !== undefined);
  if (!ours || !nginx || nodes.length === 0) return undefined;
  const best = nodes.reduce((a, b) => (b.rps.median > a.rps.median ? b : a));
  const bestCapacity = Math.max(...nodes.map(oneCoreCapacity));
  return {
    scenario,
    bestNodePeer: best.peer,
    vsNode: { rps: ours.rps.median / best.rps.median, capacity: oneCoreCapacity(ours) / bestCapacity },
    vsNginx: { rps: ours.rps.median / nginx.rps.median, capacity: oneCoreCapacity(ours) / oneCoreCapacity(nginx) },
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

const COLORS = { small: '#2f6db5', large: '#e08a1e', p50: '#6aa84f', p99: '#b03a2e', shipper: '#7b4fa0' };
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
        { name: 'small body', color: COLORS.small, values: peers.map((peer) => summary(peer, 'small', (item) => item.rps)) },
        { name: '64 KiB body', color: COLORS.large, values: peers.map((peer) => summary(peer, 'large', (item) => item.rps)) },
      ],
      highlight: ours,
    });
    panels.push({
      title: 'Proxy latency (small body)',
      unit: `milliseconds at ${proxy.connections} connections, median of runs`,
      categories: peers,
      series: [
        { name: 'p50', color: COLORS.p50, values: peers.map((peer) => summary(peer, 'small', (item) => item.p50_ms)) },
        { name: 'p99', color: COLORS.p99, values: peers.map((peer) => summary(peer, 'small', (item) => item.p99_ms)) },
      ],
      highlight: ours,
    });
    const withoutDirect = peers.filter((peer) => peer !== DIRECT);
    panels.push({
      title: 'Proxy CPU cost',
      unit: 'CPU seconds per 10,000 requests (lower is better)',
      categories: withoutDirect,
      series: [
        { name: 'small body', color: COLORS.small, values: withoutDirect.map((peer) => summary(peer, 'small', (item) => item.cpu_s_per_10k)) },
        { name: '64 KiB body', color: COLORS.large, values: withoutDirect.map((peer) => summary(peer, 'large', (item) => item.cpu_s_per_10k)) },
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
  return panels;
}
