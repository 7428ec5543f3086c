// The real stack for the browser suite: the API app (with the web page) over a real Elasticsearch
// holding the known data set, and a headless Debian Chromium driven by playwright-core.

import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { AccessRecord } from '../../common/access-record.ts';
import type { Client } from '@elastic/elasticsearch';
import { createApp } from '../../api/app.ts';
import { createElasticsearchClient } from '../../common/elasticsearch-connection.ts';
import { EventStore } from '../../api/event-store.ts';
import { generateToken, hashToken } from '../../api/tokens.ts';
import { testElasticsearch, type TestElasticsearch } from '../helpers/elasticsearch.ts';
import { deepRecords, indexRecords, knownRecords, SLOW_REQUEST_MS } from './dataset.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'web');

export interface WebStack {
  url: string;
  token: string;
  now: number;
  records: AccessRecord[];
  browser: Browser;
  es: TestElasticsearch;
  /** A client for indexing, whose requests may take as long as a busy machine needs. */
  loader: Client;
  /** A fresh browser context (own session storage) and page, 1440×900. */
  newPage(): Promise<{ context: BrowserContext; page: Page }>;
  close(): Promise<void>;
}

/** The API app (which serves the page) on a free port, accepting one token. */
export async function startApi(store: EventStore, token: string): Promise<{ url: string; server: Server }> {
  const app = createApp({
    store,
    tokens: [{ name: 'web-test', sha256: hashToken(token) }],
    logger: pino({ level: 'silent' }),
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** `deep: false` leaves out the 10,000 old records that only the cursor-paging test needs. */
export async function startWebStack(options: { deep?: boolean } = {}): Promise<WebStack> {
  const es = testElasticsearch('web');
  const now = Date.now();
  const records = knownRecords(now);
  const loader = createElasticsearchClient(es.connection, { requestTimeout: SLOW_REQUEST_MS });
  await indexRecords(loader, es.prefix, options.deep === false ? records : [...records, ...deepRecords(now)]);

  const token = generateToken();
  const { url, server } = await startApi(new EventStore(es.storage, es.prefix, 20_000), token);

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
  mkdirSync(SCREENSHOTS, { recursive: true });

  return {
    url,
    token,
    now,
    records,
    browser,
    es,
    loader,
    async newPage() {
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true, timezoneId: 'UTC' });
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      return { context, page };
    },
    async close() {
      await browser.close();
      await new Promise((resolve) => server.close(resolve));
      await loader.close();
      await es.cleanup();
    },
  };
}

/** Signs in through the form and waits for the table. */
export async function signIn(page: Page, stack: WebStack, path = '/events'): Promise<void> {
  await page.goto(`${stack.url}${path}`);
  await page.fill('#token', stack.token);
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-testid=total]');
}

/** Waits until the page shows the data of the view in its URL, with no request in flight. */
export async function settled(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const main = document.querySelector('main.content');
    const query = new URLSearchParams(location.search);
    query.delete('detail');
    return main?.getAttribute('aria-busy') === 'false' && main.getAttribute('data-view') === query.toString();
  });
}

/** The total the page shows, once it has settled. */
export async function shownTotal(page: Page): Promise<number> {
  await settled(page);
  const text = await page.textContent('[data-testid=total]');
  return Number(text!.replaceAll(',', ''));
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
}
