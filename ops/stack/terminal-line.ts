// What of a child's output line the stack's terminal shows. The children log JSON (pino) for
// machines; a person at `npm start` wants only what needs attention, one readable line each. The
// whole line always goes to the child's diagnostics file.

const WARN_LEVEL = 40;
const LEVEL_NAMES: Record<number, string> = { 40: 'warning', 50: 'error', 60: 'fatal' };

interface PinoLine {
  level?: unknown;
  msg?: unknown;
  err?: { message?: unknown; code?: unknown };
  /** Why a retried request failed: the shipper's incidents name it so rather than as an error. */
  reason?: unknown;
}

function parse(line: string): PinoLine | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as PinoLine) : undefined;
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

/**
 * The text to show for `line`, or undefined to show nothing: JSON diagnostics at warning level
 * and above as "warning: message: cause" (the error's message or code, or the retry's reason); plain text on stderr (usage errors, crashes) as it is;
 * everything else only in the file.
 */
export function terminalLine(line: string, fromStderr: boolean): string | undefined {
  const json = parse(line);
  if (!json) return fromStderr && line.trim() !== '' ? line : undefined;
  if (typeof json.level !== 'number' || json.level < WARN_LEVEL) return undefined;
  const level = LEVEL_NAMES[Math.min(60, Math.floor(json.level / 10) * 10)];
  const cause = json.err?.message ?? json.err?.code ?? json.reason;
  const message = typeof json.msg === 'string' ? json.msg : '';
  return `${level}: ${message}${cause !== undefined && !message.includes(String(cause)) ? `: ${String(cause)}` : ''}`;
}
