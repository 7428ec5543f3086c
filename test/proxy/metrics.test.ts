// GET /metrics on the proxy's status listener: every answered request is counted once by service,
// status class and auth method and timed in the latency histogram; denials and failed-attempt
// refusals are counted apart; open connections and the access log's bytes follow what happened.

import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { Pool, request } from 'undici';
import { listenerPort } from '../../common/metrics-listener.ts';
import { scrapePrometheus, type Samples } from '../helpers/prometheus.ts';
import { waitFor } from '../helpers/wait.ts';
import { cheapSecretHash, logFiles, removeDir, serviceConfig, startTestProxy, startUpstream, waitForRecords, type TestProxy, type Upstream } from './helpers.ts';

const MAX_FAILED_ATTEMPTS = 2;

describe('proxy metrics', () => {
  let upstream: Upstream;
  let proxy: TestProxy;
  let metricsUrl: string;

  before(async () => {
    upstream = await startUpstream();
    proxy = await startTestProxy({
      status: { port: 0 },
      login_rate_limit: { max_failed_attempts: MAX_FAILED_ATTEMPTS },
      services: [serviceConfig('open', upstream.url), serviceConfig('wiki', upstream.url, { method: 'password', hash: cheapSecretHash('right-secret') })],
    });
    metricsUrl = `http://127.0.0.1:${proxy.proxy.statusPort}/metrics`;
  });
  after(async () => {
    await proxy.stop();
    await upstream.close();
    await removeDir(proxy.logDir);
  });

  const send = (host: string, path: string, form?: string) =>
    request(`${proxy.url}${path}`, {
      method: form ? 'POST' : 'GET',
      headers: { host, ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body: form,
    }).then(async (response) => {
      await response.body.text();
      return response.statusCode;
    });

  it('counts each request once by service, status class and auth method, and times it', async () => {
    for (let i = 0; i < 3; i++) assert.equal(await send('open.test', `/page/${i}`), 200);
    assert.equal(await send('wiki.test', '/'), 401);
    for (let i = 0; i < MAX_FAILED_ATTEMPTS; i++) assert.equal(await send('wiki.test', '/.proxy/login', 'password=wrong&return_to=%2F'), 401);
    assert.equal(await send('wiki.test', '/.proxy/login', 'password=wrong&return_to=%2F'), 429);
    assert.equal(await send('nowhere.test', '/'), 404);

    const records = await waitForRecords(proxy.logDir, 8);
    const samples = await scrapePrometheus(metricsUrl);
    const requests = (labels: Record<string, string>) => samples.get('proxy_requests_total', labels);
    assert.equal(requests({ service: 'open', status_class: '2xx', auth_method: 'none' }), 3);
    assert.equal(requests({ service: 'wiki', status_class: '4xx', auth_method: 'password' }), 4);
    assert.equal(requests({ service: '', status_class: '4xx', auth_method: 'none' }), 1);
    const counted = samples.all('proxy_requests_total').reduce((sum, sample) => sum + sample.value, 0);
    assert.equal(counted, records.length, 'one count per access-log line');
    assert.equal(samples.get('proxy_auth_failures_total', { service: 'wiki', auth_method: 'password' }), 3);
    assert.equal(samples.get('proxy_rate_limited_total', { service: 'wiki' }), 1);
    assert.equal(samples.get('proxy_rate_limited_total', { service: 'open' }), 0);

    assertHistogram(samples, 'open', 3);
    assertHistogram(samples, 'wiki', 4);
  });

  it('follows open connections and the bytes the access log wrote', async () => {
    const pool = new Pool(proxy.url, { connections: 3 });
    try {
      await Promise.all([0, 1, 2].map((i) => pool.request({ path: `/held/${i}`, method: 'GET', headers: { host: 'open.test' } }).then((r) => r.body.text())));
      const open = (await scrapePrometheus(metricsUrl)).get('proxy_open_connections')!;
      assert.ok(open >= 3, `${open} open connections while three keep-alive connections are held`);
      await pool.close();
      await waitFor('the closed connections to leave the gauge', async () => (await scrapePrometheus(metricsUrl)).get('proxy_open_connections')! <= open - 3);
    } finally {
      await pool.destroy();
    }
    const [file] = await logFiles(proxy.logDir);
    await waitFor('the written-bytes counter to reach the file size', async () => {
      const written = (await scrapePrometheus(metricsUrl)).get('proxy_access_log_written_bytes_total');
      return written === (await stat(file!)).size;
    });
    assert.equal((await scrapePrometheus(metricsUrl)).get('proxy_access_log_write_errors_total'), 0);
  });

  it('serves metrics only on the status listener', async () => {
    assert.notEqual(listenerPort(proxy.proxy.server), proxy.proxy.statusPort);
    const response = await request(`${proxy.url}/metrics`, { headers: { host: 'open.test' } });
    assert.match(await response.body.text(), /"url":"\/metrics"/, 'the public port forwards /metrics upstream like any path');
  });
});

function assertHistogram(samples: Samples, service: string, count: number): void {
  const buckets = samples.all('proxy_request_duration_seconds_bucket').filter((sample) => sample.labels.service === service);
  const values = buckets.map((bucket) => bucket.value);
  assert.deepEqual(values, [...values].sort((a, b) => a - b), 'buckets are cumulative');
  assert.equal(buckets.at(-1)?.labels.le, '+Inf');
  assert.equal(buckets.at(-1)?.value, count);
  assert.equal(samples.get('proxy_request_duration_seconds_count', { service }), count);
  assert.ok(samples.get('proxy_request_duration_seconds_sum', { service })! > 0);
}
