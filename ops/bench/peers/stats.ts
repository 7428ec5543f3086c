// Median and spread of repeated measurements: the figure reported is the median, the spread is
// (max - min) / median, so a reader sees at once how far a noisy run can be trusted.

export interface Summary {
  median: number;
  min: number;
  max: number;
  /** (max - min) / median; 0 for one run. */
  spread: number;
  runs: number[];
}

export function summarize(runs: number[]): Summary {
  const sorted = [...runs].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  const median = sorted.length % 2 ? sorted[Math.floor(middle)]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  const min = sorted[0] ?? NaN;
  const max = sorted.at(-1) ?? NaN;
  return { median, min, max, spread: median ? (max - min) / median : 0, runs };
}

export function summarizeBy<T>(items: T[], pick: (item: T) => number): Summary {
  return summarize(items.map(pick));
}
