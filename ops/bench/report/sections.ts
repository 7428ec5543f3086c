// The sections of BENCHMARKS.md that a single benchmark owns, each between its own markers:
// rerunning that benchmark replaces its section and leaves the rest of the page alone, and
// `npm run bench`, which rewrites the page, carries every such section over.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export interface SectionMarkers {
  start: string;
  end: string;
}

const markers = (name: string): SectionMarkers => ({ start: `<!-- bench:${name} -->`, end: `<!-- /bench:${name} -->` });

export const OWNED_SECTIONS = { apiLoad: markers('api-load'), cluster: markers('cluster') } as const;

/** The section as `file` has it now, markers included. */
export function currentSection(file: string, section: SectionMarkers): string | undefined {
  const page = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const start = page.indexOf(section.start);
  const end = page.indexOf(section.end);
  return start !== -1 && end > start ? page.slice(start, end + section.end.length) : undefined;
}

/** Replaces the section in `file` (appending it the first time); `text` carries its markers. */
export function writeSection(file: string, section: SectionMarkers, text: string): void {
  const page = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const start = page.indexOf(section.start);
  const end = page.indexOf(section.end);
  const next =
    start !== -1 && end > start
      ? `${page.slice(0, start)}${text}${page.slice(end + section.end.length)}`
      : `${page.trimEnd()}\n\n${text}\n`;
  writeFileSync(file, next);
}

/** Rewrites `file` with `write`, keeping every owned section it had. */
export function rewriteKeepingSections(file: string, write: () => void): void {
  const kept = Object.values(OWNED_SECTIONS).map((section) => ({ section, text: currentSection(file, section) }));
  write();
  for (const { section, text } of kept) if (text) writeSection(file, section, text);
}
