// `npm run screenshots`: the Proxy Events page at 1400, 800 and 400 px wide, against the real API
// on a real Elasticsearch node holding the browser suite's generated data set, written to
// test-results/screenshots/ (git-ignored) for anyone to look at.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { settled, signIn, startWebStack, type WebStack } from './harness.ts';

export const SCREENSHOT_WIDTHS = [1400, 800, 400] as const;
const OUT = join(import.meta.dirname, '..', '..', 'test-results', 'screenshots');

let stack: WebStack;
before(async () => {
  stack = await startWebStack({ deep: false });
  mkdirSync(OUT, { recursive: true });
});
after(async () => stack?.close());

for (const width of SCREENSHOT_WIDTHS) {
  it(`the page at ${width} px`, async () => {
    const { context, page } = await stack.newPage();
    await page.setViewportSize({ width, height: 900 });
    await signIn(page, stack);
    await settled(page);
    await page.waitForSelector('[data-testid=insights-count]:not(:text("…"))');
    await page.screenshot({ path: join(OUT, `events-${width}.png`) });
    await page.screenshot({ path: join(OUT, `events-${width}-full.png`), fullPage: true });
    await page.click('[data-action=columns]');
    await page.screenshot({ path: join(OUT, `columns-${width}.png`) });
    await page.click('[data-action=columns]');
    await page.click('tr.row >> nth=0');
    await page.waitForSelector('[data-testid=detail]');
    await page.screenshot({ path: join(OUT, `detail-${width}.png`) });
    console.log(`wrote ${OUT}/{events,events-*-full,columns,detail}-${width}.png`);
    await context.close();
  });
}
