// The `_bulk` body both storage clients are given: every operation on its own line, in order, as
// UTF-8, whatever the text holds (the byte count is taken before the bytes are written).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bulkBody } from '../../common/storage/storage.ts';

describe('bulk body', () => {
  it('is the operations as NDJSON in UTF-8, objects serialised, a newline after each', () => {
    const operation = fc.oneof(fc.string({ unit: 'binary' }), fc.dictionary(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' })));
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 20 }), (operations) => {
        const expected = operations.map((item) => `${typeof item === 'string' ? item : JSON.stringify(item)}\n`).join('');
        assert.deepEqual(bulkBody(operations), Buffer.from(expected, 'utf8'));
      }),
    );
  });

  it('keeps an action line and its document given as one string', () => {
    const body = bulkBody(['{"create":{"_id":"a"}}\n{"user":"Zoë"}', { create: { _id: 'b' } }, { user: '東京' }]);
    assert.equal(body.toString('utf8'), '{"create":{"_id":"a"}}\n{"user":"Zoë"}\n{"create":{"_id":"b"}}\n{"user":"東京"}\n');
  });
});
