// The failed-attempt limiter on its own, with the clock passed in: the limit per key, the fixed
// window and its end.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FailedAttemptLimiter } from '../../proxy/auth/rate-limit.ts';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const SECOND = 1_000;

describe('failed-attempt limiter', () => {
  const key = FailedAttemptLimiter.key('door', '198.51.100.1');

  it('blocks a key at the limit of failures in its window, not before', () => {
    const limiter = new FailedAttemptLimiter(3, 60);
    limiter.recordFailure(key, T0);
    limiter.recordFailure(key, T0 + SECOND);
    assert.equal(limiter.isBlocked(key, T0 + 2 * SECOND), false, 'two of three');
    limiter.recordFailure(key, T0 + 2 * SECOND);
    assert.equal(limiter.isBlocked(key, T0 + 2 * SECOND), true, 'three of three');
  });

  it('keeps each service and source IP apart', () => {
    const limiter = new FailedAttemptLimiter(1, 60);
    limiter.recordFailure(key, T0);
    assert.equal(limiter.isBlocked(key, T0), true);
    assert.equal(limiter.isBlocked(FailedAttemptLimiter.key('door', '198.51.100.2'), T0), false);
    assert.equal(limiter.isBlocked(FailedAttemptLimiter.key('wiki', '198.51.100.1'), T0), false);
  });

  it('counts in fixed windows from the first failure: the block ends with the window', () => {
    const limiter = new FailedAttemptLimiter(2, 60);
    limiter.recordFailure(key, T0);
    limiter.recordFailure(key, T0 + 59 * SECOND);
    assert.equal(limiter.isBlocked(key, T0 + 60 * SECOND - 1), true);
    assert.equal(limiter.isBlocked(key, T0 + 60 * SECOND), false, 'the window ends 60 s after its first failure');
  });

  it('starts a new count after the window, so one late failure does not block', () => {
    const limiter = new FailedAttemptLimiter(2, 60);
    limiter.recordFailure(key, T0);
    limiter.recordFailure(key, T0 + 61 * SECOND);
    assert.equal(limiter.isBlocked(key, T0 + 61 * SECOND), false);
    limiter.recordFailure(key, T0 + 62 * SECOND);
    assert.equal(limiter.isBlocked(key, T0 + 62 * SECOND), true);
  });

  it('forgets expired windows of other keys as failures come in', () => {
    const limiter = new FailedAttemptLimiter(1, 60);
    limiter.recordFailure(key, T0);
    const other = FailedAttemptLimiter.key('door', '198.51.100.9');
    limiter.recordFailure(other, T0 + 120 * SECOND);
    assert.equal(limiter.isBlocked(key, T0 + 120 * SECOND), false);
    assert.equal(limiter.isBlocked(other, T0 + 120 * SECOND), true);
  });
});
