// Prometheus text read back as numbers: each sample found by its name and labels, whatever order
// the exporter prints the labels in.

export interface Samples {
  /** The sample's value; undefined when the exporter has no such series. */
  get(name: string, labels?: Record<string, string>): number | undefined;
  /** Every sample of `name`, with its labels. */
  all(name: string): { labels: Record<string, string>; value: number }[];
  /** The samples without labels, by name. */
  unlabelled(): Record<string, number>;
}

const SAMPLE = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

function key(name: string, labels: Record<string, string>): string {
  return `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)))}`;
}

export function parsePrometheus(text: string): Samples {
  const byKey = new Map<string, number>();
  const byName = new Map<string, { labels: Record<string, string>; value: number }[]>();
  const unlabelled: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, label, value] of (match[2] ?? '').matchAll(LABEL)) labels[label!] = value!;
    const value = Number(match[3]);
    byKey.set(key(match[1]!, labels), value);
    if (match[2] === undefined) unlabelled[match[1]!] = value;
    byName.set(match[1]!, [...(byName.get(match[1]!) ?? []), { labels, value }]);
  }
  return { get: (name, labels = {}) => byKey.get(key(name, labels)), all: (name) => byName.get(name) ?? [], unlabelled: () => unlabelled };
}

export async function scrapePrometheus(url: string): Promise<Samples> {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`GET ${url}: ${response.status}`);
  return parsePrometheus(await response.text());
}
