// Charts above the table: requests over time stacked by outcome (uPlot), and top-N bar lists.
// Every bar is a way in: a time bucket narrows the range, a list entry or legend entry adds a filter.

import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { CATEGORY_COLOR, CATEGORY_LABEL, CATEGORY_ORDER, count, localTime } from './format.ts';
import type { StatsBucket, TimeBucket } from './stats.ts';

const CHART_HEIGHT = 150;

interface TimeChartProps {
  buckets: TimeBucket[];
  intervalMs: number;
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

export function TimeChart(props: TimeChartProps) {
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
      legend: { show: false },
      cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
      select: { show: true, left: 0, top: 0, width: 0, height: 0 },
      scales: {
        // Bars start at their bucket's time: leave room for the last bucket's width.
        x: { time: true, range: (_u, min, max) => [min, max + handlers.current.intervalMs / 1000] },
        y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.08)] },
      },
      axes: [
        { stroke: '#6b7285', grid: { show: false }, ticks: { stroke: '#d9dce4', size: 4 }, font: '11px system-ui, sans-serif' },
        {
          stroke: '#6b7285',
          grid: { stroke: '#eceef3', width: 1 },
          ticks: { show: false },
          size: 44,
          font: '11px system-ui, sans-serif',
          values: (_u, splits) => splits.map((v) => (v >= 1000 ? `${Math.round(v / 100) / 10}k` : String(v))),
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
  }, [props.buckets]);

  const totals: Record<string, number> = {};
  for (const bucket of props.buckets) {
    for (const category of CATEGORY_ORDER) totals[category] = (totals[category] ?? 0) + (bucket.counts[category] ?? 0);
  }
  const shown = hover !== null ? props.buckets[hover] : undefined;
  const when = shown ? localTime(new Date(shown.time).toISOString()) : undefined;

  return html`
    <section class="panel chart-panel" data-chart="over-time">
      <header class="panel-head">
        <h2>Requests over time</h2>
        <span class="muted small">${when ? `${when.date} ${when.time.slice(0, 5)}` : 'click a bar or drag to zoom'}</span>
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
