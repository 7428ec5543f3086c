// Charts above the table: requests over time stacked by outcome (uPlot), and top-N bar lists.
// Every bar is a way in: a time bucket narrows the range, a list entry or legend entry adds a filter.

import { html } from 'htm/preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { ClockContext, type Clock } from './clock.ts';
import { CATEGORY_COLOR, CATEGORY_LABEL, CATEGORY_ORDER, compactCount, count, countTicks } from './format.ts';
import type { StatsBucket, TimeBucket } from './stats.ts';

const CHART_HEIGHT = 150;

/** How the chart's time axis relates to the view's range. */
export interface ChartSpan {
  /** The axis covers only the part of the range that has requests; the rest is empty. */
  focused: boolean;
  /** The whole range, when a focused chart can widen to it. */
  onWhole?: () => void;
  onFocus?: () => void;
}

interface TimeChartProps {
  buckets: TimeBucket[];
  intervalMs: number;
  span: ChartSpan;
  onRange: (startMs: number, endMs: number) => void;
  onCategory: (category: string) => void;
}

/** Cumulative series, so each outcome is drawn as a segment stacked on the ones below it. */
function stacked(buckets: TimeBucket[]): uPlot.AlignedData {
  const xs = buckets.map((b) => b.time / 1000);
  const layers: number[][] = [];
  let below = buckets.map(() => 0);
  for (const category of CATEGORY_ORDER) {
    below = buckets.map((b, i) => below[i]! + (b.counts[category] ?? 0));
    layers.push(below);
  }
  // Tallest first: uPlot paints in series order, so the shorter stacks end up in front.
  return [xs, ...layers.reverse()];
}

const DAY_S = 86_400;

/** The tallest stack: the first series holds the totals. */
function tallest(u: uPlot): number {
  return Math.max(0, ...((u.data[1] ?? []) as number[]));
}

/** Time-axis labels in the page's one format: the time of day, and the date where a day starts. */
function timeLabels(clock: Clock) {
  return (_u: uPlot, splits: number[], _axis: number, _space: number, incr: number) => {
    let previousDay: string | undefined;
    return splits.map((s) => {
      const ms = s * 1000;
      const day = clock.dayOf(ms);
      const label = incr >= DAY_S ? clock.date(ms) : previousDay === undefined || day !== previousDay ? `${clock.minute(ms)}\n${clock.date(ms)}` : clock.minute(ms);
      previousDay = day;
      return label;
    });
  };
}

export function TimeChart(props: TimeChartProps) {
  const clock = useContext(ClockContext);
  const host = useRef<HTMLDivElement>(null);
  const handlers = useRef(props);
  handlers.current = props;
  const [hover, setHover] = useState<number | null>(null);

  useEffect(() => {
    const element = host.current;
    if (!element) return;
    const categories = [...CATEGORY_ORDER].reverse();
    const bars = uPlot.paths.bars!({ size: [0.86, 48, 1], align: 1, gap: 1 });
    const options: uPlot.Options = {
      width: element.clientWidth || 600,
      height: CHART_HEIGHT,
      // The axis falls on the zone's own hours and midnights.
      tzDate: (ts) => (clock.mode === 'utc' ? uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC') : new Date(ts * 1000)),
      legend: { show: false },
      cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
      select: { show: true, left: 0, top: 0, width: 0, height: 0 },
      scales: {
        // Bars start at their bucket's time: leave room for the last bucket's width.
        x: { time: true, range: (_u, min, max) => [min, max + handlers.current.intervalMs / 1000] },
        y: { range: (u) => [0, countTicks(tallest(u)).at(-1)!] },
      },
      axes: [
        { stroke: '#6b7285', grid: { show: false }, ticks: { stroke: '#d9dce4', size: 4 }, font: '11px system-ui, sans-serif', size: 40, space: 80, values: timeLabels(clock) },
        {
          stroke: '#6b7285',
          grid: { stroke: '#eceef3', width: 1 },
          ticks: { show: false },
          size: 44,
          font: '11px system-ui, sans-serif',
          splits: (u) => countTicks(tallest(u)),
          values: (_u, splits) => splits.map(compactCount),
        },
      ],
      series: [
        {},
        ...categories.map((category) => ({
          label: CATEGORY_LABEL[category],
          fill: CATEGORY_COLOR[category],
          stroke: CATEGORY_COLOR[category],
          width: 0,
          paths: bars,
        })),
      ],
      hooks: {
        setCursor: [(u) => setHover(u.cursor.idx ?? null)],
        setSelect: [
          (u) => {
            if (u.select.width < 3) return;
            const from = u.posToVal(u.select.left, 'x') * 1000;
            const to = u.posToVal(u.select.left + u.select.width, 'x') * 1000;
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            handlers.current.onRange(Math.floor(from), Math.ceil(to));
          },
        ],
      },
    };
    const plot = new uPlot(options, stacked(props.buckets), element);
    plot.over.addEventListener('click', () => {
      const idx = plot.cursor.idx;
      if (idx === null || idx === undefined || plot.select.width >= 3) return;
      const bucket = handlers.current.buckets[idx];
      if (bucket) handlers.current.onRange(bucket.time, bucket.time + handlers.current.intervalMs);
    });
    const resize = new ResizeObserver(() => plot.setSize({ width: element.clientWidth, height: CHART_HEIGHT }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [props.buckets, clock]);

  const totals: Record<string, number> = {};
  for (const bucket of props.buckets) {
    for (const category of CATEGORY_ORDER) totals[category] = (totals[category] ?? 0) + (bucket.counts[category] ?? 0);
  }
  const shown = hover !== null ? props.buckets[hover] : undefined;
  const yTicks = countTicks(Math.max(0, ...props.buckets.map((b) => Object.values(b.counts).reduce((sum, n) => sum + n, 0))));
  const first = props.buckets[0]?.time;
  const last = props.buckets.at(-1)?.time;

  return html`
    <section
      class="panel chart-panel"
      data-chart="over-time"
      data-axis-start=${first}
      data-axis-end=${last === undefined ? undefined : last + props.intervalMs}
      data-focused=${props.span.focused}
      data-count-ticks=${yTicks.join(',')}
    >
      <header class="panel-head">
        <h2>Requests over time</h2>
        <span class="muted small chart-hint">
          ${shown ? clock.moment(shown.time) : 'click a bar or drag to zoom'}
          ${props.span.focused && props.span.onWhole
            ? html` · <button type="button" class="link" data-action="chart-whole" title="The rest of the range has no requests" onClick=${props.span.onWhole}>showing where the requests are; whole range</button>`
            : null}
          ${!props.span.focused && props.span.onFocus
            ? html` · <button type="button" class="link" data-action="chart-focus" onClick=${props.span.onFocus}>zoom to the requests</button>`
            : null}
        </span>
      </header>
      <div class="legend">
        ${CATEGORY_ORDER.map(
          (category) => html`
            <button
              class="legend-item"
              type="button"
              title=${`Show only ${CATEGORY_LABEL[category]!.toLowerCase()} requests`}
              data-category=${category}
              onClick=${() => props.onCategory(category)}
            >
              <span class="swatch" style=${`background:${CATEGORY_COLOR[category]}`}></span>
              ${CATEGORY_LABEL[category]}
              <b>${count(shown ? (shown.counts[category] ?? 0) : (totals[category] ?? 0))}</b>
            </button>
          `,
        )}
      </div>
      <div class="uplot-host" ref=${host}></div>
    </section>
  `;
}

interface TopListProps {
  title: string;
  name: string;
  items: StatsBucket[];
  color: string;
  empty: string;
  label?: (key: string) => string;
  onPick: (key: string) => void;
}

export function TopList(props: TopListProps) {
  const max = props.items.reduce((m, item) => Math.max(m, item.count), 0);
  return html`
    <section class="panel top-list" data-chart=${props.name}>
      <header class="panel-head"><h2>${props.title}</h2></header>
      ${props.items.length === 0
        ? html`<p class="muted small empty-list">${props.empty}</p>`
        : html`<ol>
            ${props.items.map(
              (item) => html`
                <li>
                  <button type="button" class="bar-row" title=${`Filter: ${item.key}`} data-key=${item.key} onClick=${() => props.onPick(item.key)}>
                    <span class="bar-fill" style=${`width:${max ? (item.count / max) * 100 : 0}%;background:${props.color}`}></span>
                    <span class="bar-label">${props.label ? props.label(item.key) : item.key}</span>
                    <span class="bar-count">${count(item.count)}</span>
                  </button>
                </li>
              `,
            )}
          </ol>`}
    </section>
  `;
}
