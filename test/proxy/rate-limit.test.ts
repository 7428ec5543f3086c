// The failed-attempt limits on their own, on an injected clock: per key, the limit, the fixed
// window and its end; per service, the budget charged before a check, the refund of a right
// secret, the lockout and the seconds until it lifts.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FailedAttemptLimiter, ServiceLockout } from '../../proxy/auth/rate-limit.ts';
import { fakeClock } from './helpers.ts';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const SECOND = 1_000;

describe('failed-attempt limiter', () => {
  const key = FailedAttemptLimiter.key('door', '198.51.100.1');
  const blocked = (limiter: FailedAttemptLimiter, which = key) => limiter.retryAfter(which) > 0;

  it('blocks a key at the limit of failures in its window, not before', () => {
    const time = fakeClock(T0);
    const limiter = new FailedAttemptLimiter(3, 60, time.clock);
    limiter.recordFailure(key);
    time.advance(SECOND);
    limiter.recordFailure(key);
    time.advance(SECOND);
    assert.equal(blocked(limiter), false, 'two of three');
    limiter.recordFailure(key);
    assert.equal(limiter.retryAfter(key), 58, 'three of three, until the window that began at T0 ends');
  });

  it('keeps each service and source IP apart', () => {
    const limiter = new FailedAttemptLimiter(1, 60, fakeClock(T0).clock);
    limiter.recordFailure(key);
    assert.equal(blocked(limiter), true);
    assert.equal(blocked(limiter, FailedAttemptLimiter.key('door', '198.51.100.2')), false);
    assert.equal(blocked(limiter, FailedAttemptLimiter.key('wiki', '198.51.100.1')), false);
  });

  it('counts in fixed windows from the first failure: the block ends with the window', () => {
    const time = fakeClock(T0);
    const limiter = new FailedAttemptLimiter(2, 60, time.clock);
    limiter.recordFailure(key);
    time.advance(59 * SECOND);
    limiter.recordFailure(key);
    time.advance(SECOND - 1);
    assert.equal(limiter.retryAfter(key), 1, 'a part of a second left is still a whole second to wait');
    time.advance(1);
    assert.equal(blocked(limiter), false, 'the window ends 60 s after its first failure');
  });

  it('starts a new count after the window, so one late failure does not block', () => {
    const time = fakeClock(T0);
    const limiter = new FailedAttemptLimiter(2, 60, time.clock);
    limiter.recordFailure(key);
    time.advance(61 * SECOND);
    limiter.recordFailure(key);
    assert.equal(blocked(limiter), false);
    time.advance(SECOND);
    limiter.recordFailure(key);
    assert.equal(blocked(limiter), true);
  });

  it('forgets expired windows of other keys as failures come in', () => {
    const time = fakeClock(T0);
    const limiter = new FailedAttemptLimiter(1, 60, time.clock);
    limiter.recordFailure(key);
    const other = FailedAttemptLimiter.key('door', '198.51.100.9');
    time.advance(120 * SECOND);
    limiter.recordFailure(other);
    assert.equal(blocked(limiter), false);
    assert.equal(blocked(limiter, other), true);
  });
});

describe('service lockout', () => {
  it('locks when the budget of wrong secrets is spent, for the lockout, and reopens after it', () => {
    const time = fakeClock(T0);
    const lockout = new ServiceLockout(3, 3_600, 600, time.clock);
    for (let attempt = 0; attempt < 2; attempt++) {
      assert.equal(lockout.charge(), 0);
      lockout.settle(false);
    }
    assert.equal(lockout.retryAfter(), 0, 'two of three');
    assert.equal(lockout.charge(), 0);
    lockout.settle(false);
    assert.equal(lockout.retryAfter(), 600);
    assert.equal(lockout.charge(), 600, 'no attempt is charged while locked');
    time.advance(599_001);
    assert.equal(lockout.retryAfter(), 1);
    time.advance(999);
    assert.equal(lockout.retryAfter(), 0);
    assert.equal(lockout.charge(), 0, 'a fresh budget after the lockout');
  });

  it('gives back the charge of a right secret', () => {
    const lockout = new ServiceLockout(2, 3_600, 600, fakeClock(T0).clock);
    for (let attempt = 0; attempt < 10; attempt++) {
      assert.equal(lockout.charge(), 0);
      lockout.settle(true);
    }
    assert.equal(lockout.retryAfter(), 0);
  });

  it('refuses attempts beyond the budget while earlier ones are still being checked', () => {
    const lockout = new ServiceLockout(2, 3_600, 600, fakeClock(T0).clock);
    assert.equal(lockout.charge(), 0);
    assert.equal(lockout.charge(), 0);
    assert.equal(lockout.charge(), 600, 'the third, sent alongside two unsettled ones, is refused and locks');
  });

  it('forgets wrong secrets of a window that ended', () => {
    const time = fakeClock(T0);
    const lockout = new ServiceLockout(2, 60, 600, time.clock);
    lockout.charge();
    lockout.settle(false);
    time.advance(60 * SECOND);
    lockout.charge();
    lockout.settle(false);
    assert.equal(lockout.retryAfter(), 0);
  });
});
