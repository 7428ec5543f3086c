// The Insights panel in a real Chromium, against the real /api/events/proxy/insights over a real
// Elasticsearch holding the known data set plus a planted brute force: the header counts what the
// API found, the panel shows each finding with its evidence, and one click lists its events.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { AccessRecord } from '../../common/access-record.ts';
import type { InsightsResponse } from '../../api/web/client/insights.ts';
import { indexRecords } from './dataset.ts';
import { screenshot, settled, shownTotal, signIn, startWebStack, type WebStack } from './harness.ts';

const ATTACKER = '198.51.100.7';
const ATTEMPTS = 40;


let stack: WebStack;
let page: Page;
/** What the API answered the page's insights request (its range ends at the time it was asked). */
let answered: InsightsResponse;

/** Wrong passwords from one address against one service, a few seconds apart, just now. */
function bruteForce(now: number): AccessRecord[] {
  return Array.from({ length: ATTEMPTS }, (_, i) => ({
    ...stack.records[1]!,
    id: `brute-${String(i).padStart(3, '0')}`,
    time: new Date(now - 3 * 60_000 + i * 3_000).toISOString(),
    service: 'wiki',
    host: 'wiki.example.com',
    path: '/login',
    method: 'POST',
    status: 401,
    reason: 'invalid password',
    auth_method: 'password' as const,
    source_ip: ATTACKER,
    user_id: undefined,
    user_email: undefined,
  }));
}

describe('Insights panel', () => {
  before(async () => {
    stack = await startWebStack({ deep: false });
    await indexRecords(stack.loader, stack.es.prefix, bruteForce(Date.now()));
    ({ page } = await stack.newPage());
    page.setDefaultTimeout(60_000);
  });
  after(async () => stack?.close());

  it('counts the findings in the header and lists each with severity and evidence', async () => {
    const insights = page.waitForResponse((r) => r.url().includes('/api/events/proxy/insights'));
    await signIn(page, stack);
    const response = await insights;
    assert.equal(response.status(), 200);
    answered = (await response.json()) as InsightsResponse;
    assert.ok(answered.total_count > 0, 'the planted brute force is found');
    await page.waitForSelector('[data-testid=insights] .finding');
    assert.equal(Number(await page.textContent('[data-testid=insights-count]')), answered.total_count);
    const severity = ['high', 'medium', 'low'].find((s) => answered.data.some((f) => f.severity === s))!;
    assert.equal(await page.$eval('[data-testid=insights-count]', (b, s) => b.classList.contains(`sev-${s}`), severity), true);
    const shown = await page.$$eval('[data-testid=insights] .finding', (items) =>
      items.map((li) => ({ id: li.getAttribute('data-finding'), severity: li.querySelector('.severity')!.textContent, evidence: li.querySelectorAll('.evidence dt').length })),
    );
    assert.deepEqual(
      shown.map((s) => [s.id, s.severity]),
      answered.data.map((f) => [f.id, f.severity]),
    );
    for (const [i, finding] of answered.data.entries()) assert.equal(shown[i]!.evidence, Object.keys(finding.evidence).length, finding.id);
    await screenshot(page, 'insights-panel');
  });

  it("opens exactly a finding's events with one click", async () => {
    const { data } = answered;
    const brute = data.find((f) => f.detector === 'brute_force' && [f.filters.source_ip].flat().includes(ATTACKER));
    assert.ok(brute, `a brute-force finding for ${ATTACKER}: ${JSON.stringify(data.map((f) => f.detector))}`);
    await page.click(`[data-finding="${brute.id}"] [data-action=show-finding]`);
    await settled(page);
    const query = new URL(page.url()).searchParams;
    for (const [key, value] of Object.entries(brute.filters)) assert.deepEqual(query.getAll(key), [value].flat(), key);
    assert.equal(await shownTotal(page), brute.count);
    const ids = await page.$$eval('tr.row', (rows) => rows.map((r) => r.getAttribute('data-id')!));
    assert.ok(ids.length > 0 && ids.every((id) => id.startsWith('brute-')), ids.join(' '));
    await screenshot(page, 'insights-finding-events');
  });

  it('hides and shows the panel from the header badge', async () => {
    await page.click('[data-action=insights]');
    assert.equal(await page.isVisible('[data-testid=insights]'), false);
    await page.click('[data-action=insights]');
    await page.waitForSelector('[data-testid=insights]');
  });
});
