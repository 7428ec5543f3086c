// One log line → the record it holds, or the reason it can never be indexed. Every way a line can
// be bad ends here as a message for the dead-letter file; nothing throws.

import { isUtf8 } from 'node:buffer';
import { accessRecordSchema, type AccessRecord } from '../common/access-record.ts';
import { checkpointLineSchema, type CheckpointLine } from '../common/trail.ts';
import type { LineProblem } from './tailed-file.ts';

export type ParsedLine =
  | { ok: true; record: AccessRecord; text: string }
  | { ok: true; checkpoint: CheckpointLine; text: string }
  | { ok: false; error: string; text: string; base64?: string };

const PROBLEM_MESSAGE: Record<LineProblem, string> = {
  'too-long': 'line too long (only its head is kept)',
  incomplete: 'incomplete line: the file ended without a newline and nobody writes to it any more',
};

const MAX_ISSUES_REPORTED = 5;

export function parseLine(bytes: Buffer, problem: LineProblem | undefined): ParsedLine {
  if (!isUtf8(bytes)) {
    return { ok: false, error: 'invalid UTF-8', text: bytes.toString('utf8'), base64: bytes.toString('base64') };
  }
  const text = bytes.toString('utf8');
  if (problem) return { ok: false, error: PROBLEM_MESSAGE[problem], text };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `not JSON: ${(error as Error).message}`, text };
  }
  if (typeof value === 'object' && value !== null && 'checkpoint' in value) {
    const result = checkpointLineSchema.safeParse(value);
    if (result.success) return { ok: true, checkpoint: result.data, text };
    return { ok: false, error: `not a trail checkpoint: ${describeIssues(result.error.issues)}`, text };
  }
  const result = accessRecordSchema.safeParse(value);
  if (result.success) return { ok: true, record: result.data, text };
  return { ok: false, error: `not an access record: ${describeIssues(result.error.issues)}`, text };
}

function describeIssues(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, MAX_ISSUES_REPORTED)
    .map((issue) => `${issue.path.map(String).join('.') || '(line)'}: ${issue.message}`)
    .join('; ');
}
