// The results chart: four horizontal bar panels drawn as SVG (medians, with a whisker from the
// lowest to the highest run) and turned into a PNG by rsvg-convert (Debian librsvg2-bin), so no
// browser is needed. Throughput and latency sit side by side on the top row.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

export interface Series {
  name: string;
  color: string;
  /** Per category: median, and optionally the lowest and highest run. */
  values: ({ median: number; min?: number; max?: number } | undefined)[];
}

export interface Panel {
  title: string;
  unit: string;
  categories: string[];
  series: Series[];
  /** Marks a category label (e.g. this project's own rows). */
  highlight?: (category: string) => boolean;
}

const WIDTH = 1400;
const PANEL_W = 680;
const LABEL_W = 230;
const BAR_H = 11;
const GAP = 8;
const FONT = 'DejaVu Sans, Liberation Sans, sans-serif';

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A round axis maximum above `value` and how many ticks divide it into round steps. */
function niceAxis(value: number): { max: number; ticks: number } {
  if (!(value > 0)) return { max: 1, ticks: 4 };
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const steps: [number, number][] = [[1, 4], [1.2, 4], [1.5, 3], [2, 4], [2.5, 5], [3, 3], [4, 4], [5, 5], [6, 3], [8, 4], [10, 5]];
  for (const [step, ticks] of steps) if (step * magnitude >= value) return { max: step * magnitude, ticks };
  return { max: 10 * magnitude, ticks: 5 };
}

function format(value: number): string {
  if (value === 0) return '0';
  if (value >= 100) return Math.round(value).toLocaleString('en');
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function panelHeight(panel: Panel): number {
  return 60 + panel.categories.length * (panel.series.length * BAR_H + GAP) + 30;
}

function drawPanel(panel: Panel, x: number, y: number): string {
  const plotW = PANEL_W - LABEL_W - 70;
  const { max, ticks } = niceAxis(Math.max(...panel.series.flatMap((series) => series.values.map((value) => value?.max ?? value?.median ?? 0))));
  const scale = (value: number) => (value / max) * plotW;
  const top = y + 50;
  const parts: string[] = [
    `<text x="${x}" y="${y + 18}" font-size="16" font-weight="bold">${escapeXml(panel.title)}</text>`,
    `<text x="${x}" y="${y + 36}" font-size="12" fill="#555">${escapeXml(panel.unit)}</text>`,
  ];
  panel.series.forEach((series, i) => {
    const lx = x + PANEL_W - (panel.series.length - i) * 120;
    parts.push(`<rect x="${lx}" y="${y + 7}" width="12" height="12" fill="${series.color}"/>`);
    parts.push(`<text x="${lx + 16}" y="${y + 17}" font-size="12">${escapeXml(series.name)}</text>`);
  });
  const plotBottom = top + panel.categories.length * (panel.series.length * BAR_H + GAP);
  for (let tick = 0; tick <= ticks; tick++) {
    const tx = x + LABEL_W + (plotW * tick) / ticks;
    parts.push(`<line x1="${tx}" y1="${top - 4}" x2="${tx}" y2="${plotBottom}" stroke="#ddd"/>`);
    parts.push(`<text x="${tx}" y="${plotBottom + 16}" font-size="11" text-anchor="middle" fill="#555">${format((max * tick) / ticks)}</text>`);
  }
  panel.categories.forEach((category, c) => {
    const groupY = top + c * (panel.series.length * BAR_H + GAP);
    const bold = panel.highlight?.(category) ? ' font-weight="bold"' : '';
    parts.push(
      `<text x="${x + LABEL_W - 8}" y="${groupY + (panel.series.length * BAR_H) / 2 + 4}" font-size="12" text-anchor="end"${bold}>${escapeXml(category)}</text>`,
    );
    panel.series.forEach((series, s) => {
      const value = series.values[c];
      if (!value || !Number.isFinite(value.median)) return;
      const by = groupY + s * BAR_H;
      const bx = x + LABEL_W;
      parts.push(`<rect x="${bx}" y="${by}" width="${Math.max(1, scale(value.median))}" height="${BAR_H - 2}" fill="${series.color}"/>`);
      if (value.min !== undefined && value.max !== undefined && value.max > value.min) {
        const wy = by + (BAR_H - 2) / 2;
        parts.push(`<line x1="${bx + scale(value.min)}" y1="${wy}" x2="${bx + scale(value.max)}" y2="${wy}" stroke="#222" stroke-width="1"/>`);
      }
      const labelX = bx + Math.max(scale(value.median), value.max !== undefined ? scale(value.max) : 0) + 4;
      parts.push(`<text x="${labelX}" y="${by + BAR_H - 3}" font-size="10" fill="#333">${format(value.median)}</text>`);
    });
  });
  return parts.join('\n');
}

/** Lays the panels out two per row and writes the PNG (and the SVG beside it). */
export function renderChart(title: string, subtitle: string, panels: Panel[], pngFile: string): void {
  const rows: Panel[][] = [];
  for (let i = 0; i < panels.length; i += 2) rows.push(panels.slice(i, i + 2));
  let y = 70;
  const body: string[] = [];
  for (const row of rows) {
    row.forEach((panel, i) => body.push(drawPanel(panel, 20 + i * (PANEL_W + 20), y)));
    y += Math.max(...row.map(panelHeight)) + 10;
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" font-family="${FONT}">
<rect width="100%" height="100%" fill="white"/>
<text x="20" y="30" font-size="20" font-weight="bold">${escapeXml(title)}</text>
<text x="20" y="52" font-size="12" fill="#555">${escapeXml(subtitle)}</text>
${body.join('\n')}
</svg>
`;
  const svgFile = pngFile.replace(/\.png$/, '.svg');
  writeFileSync(svgFile, svg);
  execFileSync('rsvg-convert', ['-o', pngFile, svgFile]);
}
