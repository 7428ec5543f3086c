// What `npm run bench:cluster` reports: the one-line summary, the fault timeline (an SVG of indexed
// lines/s, API success per second and each sampled line's freshness, fault windows shaded) and its
// section of BENCHMARKS.md.

import { OWNED_SECTIONS } from '../report/sections.ts';
import type { FaultWindow, ScenarioResult } from './scenario.ts';

export const GOALS = { apiOkPercent: 99, freshnessP95Ms: 2_000 } as const;

export function summaryLine(result: ScenarioResult): string {
  return (
    `cluster: written=${result.written} indexed=${result.indexed} duplicates=${result.duplicates} missing=${result.missing} ` +
    `api_ok=${result.apiOkPercent.toFixed(2)} api_p95_ms=${Math.round(result.apiP95Ms)} freshness_p95_ms=${Math.round(result.freshnessP95Ms)}`
  );
}

interface Second {
  /** Seconds since the run started. */
  t: number;
  /** Documents that became searchable in this second (averaged over a gap between two answered counts); null before the first. */
  indexed: number | null;
  /** Share of the API answers to requests sent in this second that were 200; null when none was sent. */
  apiOk: number | null;
}

export function perSecond(result: ScenarioResult): Second[] {
  const seconds = Math.ceil((result.finished - result.started) / 1000);
  const rows: Second[] = Array.from({ length: seconds }, (_, t) => ({ t, indexed: null, apiOk: null }));
  // Documents counted since the last answered count, spread evenly over the seconds between the
  // two: one slow or failed count must not show as a spike of everything indexed meanwhile.
  let previous: { t: number; count: number } | undefined;
  for (const sample of result.counts) {
    if (sample.count === null) continue;
    const t = Math.floor((sample.at - result.started) / 1000);
    if (previous && t > previous.t) {
      const rate = Math.max(0, sample.count - previous.count) / (t - previous.t);
      for (let second = previous.t + 1; second <= t; second++) if (rows[second]) rows[second].indexed = rate;
    }
    previous = { t, count: sample.count };
  }
  const asked = new Map<number, { ok: number; all: number }>();
  for (const answer of result.answers) {
    const t = Math.floor((answer.at - result.started) / 1000);
    const bucket = asked.get(t) ?? { ok: 0, all: 0 };
    bucket.all++;
    if (answer.status === 200) bucket.ok++;
    asked.set(t, bucket);
  }
  for (const [t, bucket] of asked) if (rows[t]) rows[t].apiOk = (100 * bucket.ok) / bucket.all;
  return rows;
}

/**
 * How long after a window's end sampled lines kept missing the freshness goal: the shippers
 * sending what piled up while the cluster could not take it. Measured to the moment the last
 * such line (written after the window, searchable before the next one) became searchable; 0 when
 * none did.
 */
export function catchUpMs(result: ScenarioResult, window: FaultWindow): number {
  const next = result.windows.find((other) => other.start > window.end)?.start ?? result.finished;
  // A line still waiting when the next fault began belongs to that fault, not to this one's catch-up.
  const late = result.freshness.filter((s) => s.lineAt > window.end && s.searchableAt < next && s.searchableAt - s.lineAt > GOALS.freshnessP95Ms);
  return late.length === 0 ? 0 : Math.max(...late.map((s) => s.searchableAt)) - window.end;
}

const WIDTH = 900;
const PANEL = 150;
const MARGIN = { left: 60, right: 20, top: 30, gap: 50, bottom: 40 };
const FAULT_FILL: Record<FaultWindow['kind'], string> = { 'data node killed': '#f4c7a1', 'master killed': '#f3e19a', 'cluster stopped': '#f2a3a3' };

/** The freshness panel's ceiling: a line that waited longer is drawn at the top edge. */
const FRESHNESS_CAP_MS = 30_000;

/** Three panels over the same time axis: indexed lines/s, API success %, freshness; fault windows shaded behind each. */
export function timelineSvg(result: ScenarioResult): string {
  const rows = perSecond(result);
  const span = Math.max(1, rows.length);
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const x = (t: number) => MARGIN.left + (t / span) * plotWidth;
  const height = MARGIN.top + 3 * PANEL + 2 * MARGIN.gap + MARGIN.bottom;
  const maxIndexed = Math.max(1, ...rows.map((row) => row.indexed ?? 0));
  const panels = [
    { title: 'indexed lines/s (searchable documents, counted every second; a gap averaged)', top: MARGIN.top, max: maxIndexed, value: (row: Second) => row.indexed, colour: '#2b6cb0' },
    { title: 'API success per second (% of list + stats answers that were 200)', top: MARGIN.top + PANEL + MARGIN.gap, max: 100, value: (row: Second) => row.apiOk, colour: '#2f855a' },
  ];
  const freshnessTop = MARGIN.top + 2 * (PANEL + MARGIN.gap);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
  ];
  for (const panel of panels) {
    const y = (value: number) => panel.top + PANEL - (value / panel.max) * PANEL;
    for (const window of result.windows) {
      const left = x((window.start - result.started) / 1000);
      const right = x((window.end - result.started) / 1000);
      out.push(`<rect x="${left.toFixed(1)}" y="${panel.top}" width="${Math.max(1, right - left).toFixed(1)}" height="${PANEL}" fill="${FAULT_FILL[window.kind]}"/>`);
      if (panel === panels[0]) out.push(`<text x="${(left + 2).toFixed(1)}" y="${panel.top + 12}">${window.kind}${window.node ? ` (${window.node})` : ''}</text>`);
    }
    out.push(`<text x="${MARGIN.left}" y="${panel.top - 8}" font-weight="bold">${panel.title}</text>`);
    out.push(`<line x1="${MARGIN.left}" y1="${panel.top + PANEL}" x2="${WIDTH - MARGIN.right}" y2="${panel.top + PANEL}" stroke="#444"/>`);
    out.push(`<line x1="${MARGIN.left}" y1="${panel.top}" x2="${MARGIN.left}" y2="${panel.top + PANEL}" stroke="#444"/>`);
    for (const tick of [0, panel.max / 2, panel.max]) out.push(`<text x="${MARGIN.left - 6}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end">${Math.round(tick)}</text>`);
    // A gap where there is no value: the cluster did not answer the count, or nobody asked the API.
    let path = '';
    let drawing = false;
    for (const row of rows) {
      const value = panel.value(row);
      if (value === null) {
        drawing = false;
        continue;
      }
      path += `${drawing ? 'L' : 'M'}${x(row.t + 0.5).toFixed(1)},${y(value).toFixed(1)}`;
      drawing = true;
    }
    out.push(`<path d="${path}" fill="none" stroke="${panel.colour}" stroke-width="1.5"/>`);
  }
  const freshnessY = (ms: number) => freshnessTop + PANEL - (Math.min(ms, FRESHNESS_CAP_MS) / FRESHNESS_CAP_MS) * PANEL;
  for (const window of result.windows) {
    const left = x((window.start - result.started) / 1000);
    out.push(`<rect x="${left.toFixed(1)}" y="${freshnessTop}" width="${Math.max(1, x((window.end - result.started) / 1000) - left).toFixed(1)}" height="${PANEL}" fill="${FAULT_FILL[window.kind]}"/>`);
  }
  out.push(`<text x="${MARGIN.left}" y="${freshnessTop - 8}" font-weight="bold">freshness of sampled lines (s from the line's timestamp to searchable; dot at the line's time, capped at ${FRESHNESS_CAP_MS / 1000} s; dashed: the goal)</text>`);
  out.push(`<line x1="${MARGIN.left}" y1="${freshnessTop + PANEL}" x2="${WIDTH - MARGIN.right}" y2="${freshnessTop + PANEL}" stroke="#444"/>`);
  out.push(`<line x1="${MARGIN.left}" y1="${freshnessTop}" x2="${MARGIN.left}" y2="${freshnessTop + PANEL}" stroke="#444"/>`);
  out.push(`<line x1="${MARGIN.left}" y1="${freshnessY(GOALS.freshnessP95Ms).toFixed(1)}" x2="${WIDTH - MARGIN.right}" y2="${freshnessY(GOALS.freshnessP95Ms).toFixed(1)}" stroke="#c53030" stroke-dasharray="4 3"/>`);
  for (const tick of [0, FRESHNESS_CAP_MS / 2, FRESHNESS_CAP_MS]) out.push(`<text x="${MARGIN.left - 6}" y="${(freshnessY(tick) + 4).toFixed(1)}" text-anchor="end">${tick / 1000}</text>`);
  for (const sample of result.freshness) {
    out.push(`<circle cx="${x((sample.lineAt - result.started) / 1000).toFixed(1)}" cy="${freshnessY(sample.searchableAt - sample.lineAt).toFixed(1)}" r="1.6" fill="#6b46c1"/>`);
  }
  const axisY = freshnessTop + PANEL;
  for (let t = 0; t <= span; t += span > 600 ? 120 : 60) out.push(`<text x="${x(t).toFixed(1)}" y="${axisY + 16}" text-anchor="middle">${t} s</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

const verdict = (met: boolean) => (met ? 'met' : '**missed**');
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export interface SectionContext {
  command: string;
  loadAverage: [number, number];
  chartPath: string;
}

export function renderClusterSection(result: ScenarioResult, context: SectionContext): string {
  const started = new Date(result.started).toISOString().slice(0, 16).replace('T', ' ');
  const failures = Object.entries(result.apiFailures).map(([what, count]) => `${count} × ${what}`);
  const out = [
    OWNED_SECTIONS.cluster.start,
    '## Faults on a secured 3-node cluster',
    '',
    `Generated by \`${context.command}\` (ops/bench/cluster.ts) at ${started} UTC, load average ${context.loadAverage[0].toFixed(1)} at the start and ${context.loadAverage[1].toFixed(1)} at the end. ` +
      `2 proxies at ${result.rate} requests/s each, each followed by its own shipper (its own API key, the CA, every node's URL), into a local 3-node cluster (security and TLS on, one replica); ` +
      `the API (its own key) asked for a list page and the stats in turn by 2 clients, continuously.`,
    '',
    '```',
    summaryLine(result),
    '```',
    '',
    '| figure | measured | goal | result |',
    '| --- | --- | --- | --- |',
    `| lines written by the proxies / documents | ${result.written} / ${result.indexed} | equal | ${verdict(result.written === result.indexed)} |`,
    `| duplicates (documents beyond the first per request id) | ${result.duplicates} | 0 | ${verdict(result.duplicates === 0)} |`,
    `| missing (lines without a document) | ${result.missing} | 0 | ${verdict(result.missing === 0)} |`,
    `| API answers 200, outside the full stop | ${result.apiOkPercent.toFixed(2)} % of ${result.apiAnswers - result.duringStop.answers} | ≥ ${GOALS.apiOkPercent} % | ${verdict(result.apiOkPercent >= GOALS.apiOkPercent)} |`,
    `| API answers during the full stop that were neither 200 nor 503 \`API_ELASTICSEARCH_UNAVAILABLE\` | ${result.duringStop.other.length} of ${result.duringStop.answers}${result.duringStop.other.length > 0 ? ` (${result.duringStop.other.map((a) => `${a.status} ${a.error ?? a.message ?? ''}`.trim()).join('; ')})` : ''} | 0 | ${verdict(result.duringStop.other.length === 0)} |`,
    `| API p95 latency, outside the full stop | ${Math.round(result.apiP95Ms)} ms | | |`,
    `| freshness p95 (line timestamp → searchable), after the warm-up, outside fault windows | ${Math.round(result.freshnessP95Ms)} ms (${result.freshnessSamples} samples; ${Math.round(result.freshnessP95AllMs)} ms over all samples) | ≤ ${GOALS.freshnessP95Ms} ms | ${verdict(result.freshnessP95Ms <= GOALS.freshnessP95Ms)} |`,
    '',
    failures.length > 0 ? `API answers other than 200 outside the full stop: ${failures.join('; ')}.` : 'Every API answer outside the full stop was a 200.',
    '',
    'Faults (a window lasts from the fault until the cluster has all three nodes again with every primary shard active, and after the full stop until it accepts API keys again). ' +
      'Freshness outside fault windows counts the sampled lines whose wait from timestamp to searchable overlapped no window; API figures outside the full stop count the requests whose time in flight overlapped no full stop.',
    '',
    '| fault | node | at | window | lines late after it (caught up) |',
    '| --- | --- | ---: | ---: | ---: |',
    ...result.windows.map((w) => `| ${w.kind} | ${w.node ?? 'all'} | ${seconds(w.start - result.started)} | ${seconds(w.end - w.start)} | ${seconds(catchUpMs(result, w))} |`),
    '',
    `"Lines late after it": from the window's end until the last sampled line written after it that took longer than ${GOALS.freshnessP95Ms} ms to become searchable (before the next fault): the shippers sending what piled up while the cluster could not take it.`,
    '',
    `![fault timeline: indexed lines/s, API success per second and freshness of sampled lines, fault windows shaded](${context.chartPath})`,
    OWNED_SECTIONS.cluster.end,
  ];
  return out.join('\n');
}
