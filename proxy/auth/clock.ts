// The time the auth code reads: sessions, revocations and failed-attempt limits all take it from an
// injected clock, so tests can move time forward instead of sleeping.

/** Milliseconds since the epoch. */
export type Clock = () => number;

export const systemClock: Clock = Date.now;

export function epochSeconds(clock: Clock): number {
  return Math.floor(clock() / 1000);
}
