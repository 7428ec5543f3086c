// The chooser page of a service with several methods in a real Chromium, through the real proxy:
// signing in with the keyboard alone, the page at 400 px wide, its inline style allowed by its own
// policy, and nothing loaded from anywhere but the proxy.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { AUTHENTICATION_REQUIRED_REASON } from '../../proxy/auth/chooser.ts';
import { CHROMIUM } from '../web/harness.ts';
import { cheapSecretHash, readRecords, removeDir, startTestProxy, startUpstream, waitForRecords, type TestProxy, type Upstream } from './helpers.ts';

const PASSWORD = 'keyboard-only-password';

describe('the chooser page in Chromium', () => {
  let upstream: Upstream;
  let proxy: TestProxy;
  let browser: Browser;
  const foreignRequests: string[] = [];
  const browserErrors: string[] = [];

  before(async () => {
    upstream = await startUpstream();
    proxy = await startTestProxy({
      services: [
        {
          id: 'portal',
          hosts: ['127.0.0.1'],
          upstream: upstream.url,
          auth: [
            { method: 'password', hash: cheapSecretHash(PASSWORD), user_id: 'portal-team' },
            { method: 'pin', hash: cheapSecretHash('1234') },
            { method: 'basic', users: [{ username: 'robot', hash: cheapSecretHash('robot') }] },
          ],
        },
      ],
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'] });
  });

  after(async () => {
    await browser?.close();
    await proxy.stop();
    await upstream.close();
    await removeDir(proxy.logDir);
  });

  async function open(width: number): Promise<Page> {
    const context = await browser.newContext({ viewport: { width, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    page.on('request', (request) => !request.url().startsWith(proxy.url) && foreignRequests.push(request.url()));
    page.on('console', (message) => message.type() === 'error' && !message.text().startsWith('Failed to load resource') && browserErrors.push(message.text()));
    return page;
  }

  test('keyboard only: Tab to a method, Enter, type the password, Enter — and the upstream answers', async () => {
    const page = await open(1280);
    const response = await page.goto(`${proxy.url}/reports/q3?view=full`);
    assert.equal(response?.status(), 401);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Password');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    assert.equal(outline, 'solid', 'the focused choice is visibly marked');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'PIN');
    await page.keyboard.press('Shift+Tab');
    await Promise.all([page.waitForURL(/\/\.proxy\/login\/password\?return_to=/), page.keyboard.press('Enter')]);
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'password', 'the field has the focus on arrival');
    await page.keyboard.type(PASSWORD);
    await Promise.all([page.waitForURL(`${proxy.url}/reports/q3?view=full`), page.keyboard.press('Enter')]);
    const echoed = JSON.parse((await page.textContent('body'))!) as { url: string };
    assert.equal(echoed.url, '/reports/q3?view=full');
    const records = await waitForRecords(proxy.logDir, 4);
    const chooser = records.find((record) => record.path === '/reports/q3' && record.status === 401)!;
    assert.equal(chooser.auth_method, 'none');
    assert.equal(chooser.reason, AUTHENTICATION_REQUIRED_REASON);
    const admitted = records.find((record) => record.path === '/reports/q3' && record.status === 200)!;
    assert.equal(admitted.auth_method, 'password');
    assert.equal(admitted.user_id, 'portal-team');
    await page.context().close();
  });

  test('at 400 px wide: nothing overflows, every choice is on screen, the page style applies under its policy', async () => {
    const page = await open(400);
    await page.goto(`${proxy.url}/`);
    const layout = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      background: getComputedStyle(document.body).backgroundColor,
      choices: [...document.querySelectorAll('a.choice, nav p')].map((element) => {
        const box = element.getBoundingClientRect();
        return { text: element.textContent, left: box.left, right: box.right, height: box.height };
      }),
    }));
    assert.ok(layout.scrollWidth <= 400, `page is ${layout.scrollWidth} px wide`);
    assert.equal(layout.background, 'rgb(244, 245, 247)', 'the inline style ran (its hash is in the policy)');
    assert.deepEqual(
      layout.choices.map((choice) => choice.text),
      ['Password', 'PIN', 'Scripts and API clients: HTTP Basic (username and password on every request)'],
    );
    for (const choice of layout.choices) {
      assert.ok(choice.left >= 0 && choice.right <= 400 && choice.height > 0, `${choice.text} at ${choice.left}..${choice.right}`);
    }
    await page.context().close();
  });

  test('nothing was loaded from elsewhere and Chromium reported no policy violation', async () => {
    assert.deepEqual(foreignRequests, []);
    assert.deepEqual(browserErrors, []);
    assert.ok((await readRecords(proxy.logDir)).every((record) => record.service === 'portal'));
  });
});
