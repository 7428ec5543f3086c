// Retention deletes exactly the daily indices older than N days, never another prefix's, and a
// dry run deletes nothing; the template installs idempotently.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { applyRetention, installIndexTemplate, retentionCutoff } from '../../common/index-lifecycle.ts';
import { indexPattern, indexTemplateName } from '../../common/proxy-event-document.ts';
import { testElasticsearch, type TestElasticsearch } from '../helpers/elasticsearch.ts';

const NOW = new Date('2026-03-10T08:30:00.000Z');
const DAYS = ['2026.02.27', '2026.02.28', '2026.03.01', '2026.03.02', '2026.03.03', '2026.03.09', '2026.03.10'];

describe('retention', () => {
  let es: TestElasticsearch;
  before(async () => {
    es = testElasticsearch('retention');
    await installIndexTemplate(es.client, es.prefix);
    await installIndexTemplate(es.client, es.prefix);
    for (const day of DAYS) await es.client.indices.create({ index: `${es.prefix}-${day}` });
    // Look-alikes that are not daily indices of the prefix.
    await es.client.indices.create({ index: `${es.prefix}-archive` });
    await es.client.indices.create({ index: `${es.prefix}-x-2020.01.01` });
  });
  after(async () => es.cleanup());

  const remaining = async () => {
    const rows = await es.client.cat.indices({ index: indexPattern(es.prefix), format: 'json', h: 'index' });
    return rows.map((row) => row.index!).sort();
  };

  it('keeps today and the N days before it', () => {
    assert.deepEqual(retentionCutoff(7, NOW), new Date('2026-03-03T00:00:00.000Z'));
  });

  it('installs the template idempotently', async () => {
    const { index_templates } = await es.client.indices.getIndexTemplate({ name: indexTemplateName(es.prefix) });
    assert.equal(index_templates.length, 1);
  });

  it('deletes nothing in a dry run, and exactly the expired indices otherwise', async () => {
    const all = await remaining();
    const dry = await applyRetention(es.client, { prefix: es.prefix, days: 7, dryRun: true, now: NOW });
    const expired = ['2026.02.27', '2026.02.28', '2026.03.01', '2026.03.02'].map((day) => `${es.prefix}-${day}`);
    assert.deepEqual(dry.expired, expired);
    assert.deepEqual(await remaining(), all);

    const real = await applyRetention(es.client, { prefix: es.prefix, days: 7, now: NOW });
    assert.deepEqual(real.expired, expired);
    assert.deepEqual(await remaining(), all.filter((name) => !expired.includes(name)));
    assert.ok((await remaining()).includes(`${es.prefix}-archive`));
    assert.ok((await remaining()).includes(`${es.prefix}-x-2020.01.01`));
  });

  it('runs from the command line, dry run included', async () => {
    const run = promisify(execFile);
    const dry = await run(process.execPath, ['ops/retention/main.ts', '--days', '1', '--dry-run', '--index-prefix', es.prefix]);
    const wouldGo = dry.stdout.trim().split('\n');
    assert.ok(wouldGo.includes(`${es.prefix}-2026.03.03`), 'indices older than a day from the real today are listed');
    assert.ok((await remaining()).includes(`${es.prefix}-2026.03.03`), 'and not deleted');
    await run(process.execPath, ['ops/retention/main.ts', '--days', '1', '--index-prefix', es.prefix]);
    assert.deepEqual(await remaining(), [`${es.prefix}-archive`, `${es.prefix}-x-2020.01.01`]);
    await assert.rejects(run(process.execPath, ['ops/retention/main.ts', '--days', '0']), /--days/);
  });
});
