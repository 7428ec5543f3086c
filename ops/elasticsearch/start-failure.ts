// Turns a node that did not start into a message an operator can act on: the cause in a sentence
// or two, what to do about it, and the last lines of the node's log below for the rest.

import { existsSync, readFileSync } from 'node:fs';
import { ProxyAccessLogError } from '../../common/errors.ts';

export class ElasticsearchStartError extends ProxyAccessLogError {
  readonly code = 'ES_START_FAILED';
}

interface KnownCause {
  pattern: RegExp;
  explain: (match: RegExpExecArray, user: string) => string;
}

const KNOWN_CAUSES: KnownCause[] = [
  {
    pattern: /AccessDeniedException: (\S+)/,
    explain: ([, path], user) =>
      `the node, running as user "${user}", may not open ${path}: a directory above it is closed to that user. ` +
      'Keep the node\'s data where that user can reach it (npm start does so by itself), or run as a user other than root.',
  },
  {
    pattern: /failed to obtain node locks|NodeLockedException|LockObtainFailedException/,
    explain: () => 'another node is using the same data directory. Stop it first (is another `npm start` or `npm run elasticsearch` running?).',
  },
  {
    pattern: /BindException|Address already in use/,
    explain: () => 'a port the node needs is already in use on 127.0.0.1. Stop whatever holds it, or let the node pick a free port.',
  },
  {
    pattern: /UnsupportedClassVersionError|requires Java|JAVA_HOME.*(?:not|invalid)/,
    explain: () => 'the JDK is too old for the node. Install a JDK 21 or newer, or point ES_JAVA_HOME (OPENSEARCH_JAVA_HOME for OpenSearch) at one.',
  },
  {
    // java.lang.: the JVM arguments line names -XX:+HeapDumpOnOutOfMemoryError on every start.
    pattern: /java\.lang\.OutOfMemoryError|Cannot allocate memory|insufficient memory/,
    explain: () => 'the node ran out of memory. Free some, or give it a smaller heap.',
  },
  {
    pattern: /No space left on device/,
    explain: () => 'the disk holding the node\'s data is full. Free some space.',
  },
];

/** The last `lines` lines of a file, or a note that there is none. */
export function logTail(file: string, lines = 20): string {
  if (!existsSync(file)) return `(no log at ${file})`;
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/** One or two sentences on why the node did not start, given what it logged and what we saw. */
export function explainStartFailure(logText: string, observed: string, user: string): string {
  for (const cause of KNOWN_CAUSES) {
    const match = cause.pattern.exec(logText);
    if (match) return cause.explain(match, user);
  }
  return `${observed}. The node's log below says why.`;
}
