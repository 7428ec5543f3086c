// pino-roll ships no types; this covers the options the access-log writer passes.
declare module 'pino-roll' {
  import type { EventEmitter } from 'node:events';
  interface PinoRollOptions {
    file: string;
    extension?: string;
    size?: string | number;
    frequency?: 'daily' | 'hourly' | number;
    limit?: { count: number; removeOtherLogFiles?: boolean };
    mkdir?: boolean;
    /** Passed to SonicBoom: bytes gathered before a write, and the longest wait for a flush. */
    minLength?: number;
    periodicFlush?: number;
    sync?: boolean;
  }
  export default function pinoRoll(options: PinoRollOptions): Promise<EventEmitter>;
}
