// What `npm start` shows of its children's output: warnings and errors in one readable line,
// never the JSON diagnostics of a healthy start.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { terminalLine } from '../../ops/stack/terminal-line.ts';

describe('the stack terminal', () => {
  it('keeps info and debug diagnostics off the terminal', () => {
    assert.equal(terminalLine('{"level":30,"time":1,"msg":"listening","url":"http://127.0.0.1:8080"}', true), undefined);
    assert.equal(terminalLine('{"level":20,"msg":"batch sent"}', false), undefined);
  });

  it('shows a warning or an error as one line with its cause', () => {
    assert.equal(
      terminalLine('{"level":40,"msg":"bulk failed, retrying","err":{"type":"ConnectionError","message":"connect ECONNREFUSED 127.0.0.1:9200","stack":"ConnectionError: …\\n    at x (y.js:1:1)"}}', true),
      'warning: bulk failed, retrying: connect ECONNREFUSED 127.0.0.1:9200',
    );
    assert.equal(terminalLine('{"level":50,"msg":"cannot listen: EADDRINUSE","err":{"message":"EADDRINUSE"}}', false), 'error: cannot listen: EADDRINUSE');
    assert.equal(terminalLine('{"level":60,"msg":"fatal"}', true), 'fatal: fatal');
    assert.equal(
      terminalLine('{"level":40,"msg":"bulk request not accepted, retrying with backoff","reason":"HTTP 401: security_exception","items":3}', false),
      'warning: bulk request not accepted, retrying with backoff: HTTP 401: security_exception',
    );
  });

  it('shows plain text written to stderr (usage errors, crashes) and hides plain stdout', () => {
    assert.equal(terminalLine('proxy.config.json: services[0].upstream: Invalid URL', true), 'proxy.config.json: services[0].upstream: Invalid URL');
    assert.equal(terminalLine('demo upstream listening on http://127.0.0.1:9401', false), undefined);
    assert.equal(terminalLine('   ', true), undefined);
    assert.equal(terminalLine('{not json', true), '{not json');
  });
});
