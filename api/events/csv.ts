// CSV rows of records (RFC 4180). Text cells that a spreadsheet would run as a formula (starting
// with = + - @ or a control character) get a leading apostrophe: hosts, paths and user agents
// come from anyone on the internet.

import { RECORD_COLUMNS, type ProxyAccessLog } from './record.ts';

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

export function csvCell(value: string | number | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'number') return String(value);
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export const CSV_HEADER = `${RECORD_COLUMNS.join(',')}\r\n`;

export function csvRow(record: ProxyAccessLog): string {
  let line = '';
  for (let i = 0; i < RECORD_COLUMNS.length; i++) {
    if (i > 0) line += ',';
    line += csvCell(record[RECORD_COLUMNS[i]!]);
  }
  return `${line}\r\n`;
}
