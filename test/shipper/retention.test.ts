// Retention deletes exactly the daily indices older than N whole UTC days before "now" (a fixed
// date here, across month and year ends), the trail's with the events', never another prefix's,
// and a dry run deletes nothing; installing the template again restores the declared one. The
// command lists before it deletes and refuses a prefix that is not this project's.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { applyRetention, installIndexTemplate, retentionCutoff } from '../../common/index-lifecycle.ts';
import { dailyIndexName, indexPattern, indexTemplate, indexTemplateName, trailIndexPrefix } from '../../common/proxy-event-document.ts';
import { childEnv, testElasticsearch, type TestElasticsearch } from '../helpers/elasticsearch.ts';

const DAY_MS = 86_400_000;
/** Just after midnight on the second day of a year: keeping 3 days reaches back over the year's end. */
const NOW = new Date('2026-01-02T00:15:00.000Z');
const DAYS = ['2025.12.27', '2025.12.28', '2025.12.29', '2025.12.30', '2025.12.31', '2026.01.01', '2026.01.02'];

async function dailyIndices(es: TestElasticsearch): Promise<string[]> {
  const rows = await es.client.cat.indices({ index: indexPattern(es.prefix), format: 'json', h: 'index' });
  return rows.map((row) => row.index!).sort();
}

describe('retention cutoff', () => {
  const cases: Array<[now: string, days: number, firstDayKept: string]> = [
    ['2026-03-10T08:30:00.000Z', 7, '2026-03-03'],
    ['2026-03-01T00:00:00.000Z', 1, '2026-02-28'],
    ['2024-03-01T23:59:59.999Z', 1, '2024-02-29'],
    ['2024-03-01T12:00:00.000Z', 30, '2024-01-31'],
    ['2026-01-01T00:00:00.000Z', 1, '2025-12-31'],
    ['2025-12-31T23:59:59.999Z', 365, '2024-12-31'],
  ];
  for (const [now, days, firstDayKept] of cases) {
    it(`at ${now} keeping ${days} day(s), ${firstDayKept} is the first day kept`, () => {
      assert.deepEqual(retentionCutoff(days, new Date(now)), new Date(`${firstDayKept}T00:00:00.000Z`));
    });
  }
});

describe('retention on a real node', () => {
  let es: TestElasticsearch;
  let outputDir: string;
  let runs = 0;
  before(async () => {
    outputDir = await mkdtemp(join(tmpdir(), 'retention-test-'));
    es = testElasticsearch('retention');
    await installIndexTemplate(es.storage, es.prefix);
    for (const day of DAYS) await es.client.indices.create({ index: `${es.prefix}-${day}` });
    // Look-alikes that are not daily indices of the prefix.
    await es.client.indices.create({ index: `${es.prefix}-archive` });
    await es.client.indices.create({ index: `${es.prefix}-x-2020.01.01` });
  });
  after(async () => {
    await es.cleanup();
    await rm(outputDir, { recursive: true, force: true });
  });

  it('installing the template again replaces a changed one with the declared template', async () => {
    const declared = indexTemplate(es.prefix);
    const stored = async () => (await es.client.indices.getIndexTemplate({ name: indexTemplateName(es.prefix) })).index_templates[0]!.index_template;
    const installed = await stored();
    await es.client.indices.putIndexTemplate({ ...declared, priority: declared.priority + 1, template: { mappings: { dynamic: true, properties: {} } } });
    assert.notDeepEqual(await stored(), installed, 'the template was changed');
    await installIndexTemplate(es.storage, es.prefix);
    await installIndexTemplate(es.storage, es.prefix);
    assert.deepEqual(await stored(), installed);
    assert.deepEqual(installed.index_patterns, declared.index_patterns);
    assert.equal(installed.priority, declared.priority);
    assert.deepEqual(Object.keys(installed.template!.mappings!.properties!).sort(), Object.keys(declared.template.mappings.properties).sort());
  });

  it('deletes nothing in a dry run, and exactly the days before the cutoff otherwise, across a year end', async () => {
    const all = await dailyIndices(es);
    const expired = ['2025.12.27', '2025.12.28', '2025.12.29'].map((day) => `${es.prefix}-${day}`);
    const dry = await applyRetention(es.storage, { prefix: es.prefix, days: 3, dryRun: true, now: NOW });
    assert.deepEqual(dry.expired, expired);
    assert.deepEqual(dry.cutoff, new Date('2025-12-30T00:00:00.000Z'));
    assert.deepEqual(await dailyIndices(es), all);

    const real = await applyRetention(es.storage, { prefix: es.prefix, days: 3, now: NOW });
    assert.deepEqual(real.expired, expired);
    assert.deepEqual(real.kept, ['2025.12.30', '2025.12.31', '2026.01.01', '2026.01.02'].map((day) => `${es.prefix}-${day}`));
    assert.deepEqual(await dailyIndices(es), all.filter((name) => !expired.includes(name)));
    assert.ok((await dailyIndices(es)).includes(`${es.prefix}-archive`));
    assert.ok((await dailyIndices(es)).includes(`${es.prefix}-x-2020.01.01`));

    const later = await applyRetention(es.storage, { prefix: es.prefix, days: 3, now: new Date('2026-01-03T00:00:00.000Z') });
    assert.deepEqual(later.expired, [`${es.prefix}-2025.12.30`], 'a day later, one more day goes');
  });

  it('deletes the trail’s checkpoint indices by the same days as the events', async () => {
    const trail = (day: string) => dailyIndexName(trailIndexPrefix(es.prefix), new Date(`${day}T00:00:00.000Z`));
    for (const day of ['2025-12-20', '2026-01-02']) await es.client.indices.create({ index: trail(day) });
    const result = await applyRetention(es.storage, { prefix: es.prefix, days: 3, now: NOW });
    assert.deepEqual(result.expired, [trail('2025-12-20')]);
    assert.ok(result.kept.includes(trail('2026-01-02')));
    assert.equal(await es.client.indices.exists({ index: trail('2025-12-20') }), false);
    assert.equal(await es.client.indices.exists({ index: trail('2026-01-02') }), true);
  });

  /** `npm run retention` on the suite's node, stdout and stderr in one file so their order shows. */
  async function retentionCommand(args: string[]): Promise<{ code: number | null; lines: string[] }> {
    const file = join(outputDir, `run-${++runs}.txt`);
    const output = await open(file, 'w');
    try {
      const child = spawn(process.execPath, ['ops/retention/main.ts', ...args], { env: childEnv(es.connection), stdio: ['ignore', output.fd, output.fd] });
      const [code] = (await once(child, 'exit')) as [number | null];
      return { code, lines: (await readFile(file, 'utf8')).trimEnd().split('\n') };
    } finally {
      await output.close();
    }
  }

  it('runs from the command line against the real today: lists every index, then the count, before deleting', async (t) => {
    const cli = testElasticsearch('retention-cli');
    t.after(() => cli.cleanup());
    await installIndexTemplate(cli.storage, cli.prefix);
    // Five and six days apart from today: the outcome is the same if midnight passes during the test.
    const now = Date.now();
    const old = [6, 5].map((days) => dailyIndexName(cli.prefix, new Date(now - days * DAY_MS)));
    const today = dailyIndexName(cli.prefix, new Date(now));
    for (const index of [...old, today]) await cli.client.indices.create({ index });
    const counted = new RegExp(`^retention: 2 daily indices of ${cli.prefix} are older than \\d{4}-\\d{2}-\\d{2}; 1 kept`);

    const dry = await retentionCommand(['--days', '1', '--dry-run', '--index-prefix', cli.prefix]);
    assert.equal(dry.code, 0, dry.lines.join('\n'));
    assert.deepEqual(dry.lines.slice(0, 2), old);
    assert.match(dry.lines[2]!, new RegExp(`${counted.source}\\. Dry run: nothing deleted$`));
    assert.equal(dry.lines.length, 3);
    assert.deepEqual(await dailyIndices(cli), [...old, today], 'a dry run deletes nothing');

    const real = await retentionCommand(['--days', '1', '--index-prefix', cli.prefix]);
    assert.equal(real.code, 0, real.lines.join('\n'));
    assert.deepEqual(real.lines.slice(0, 2), old);
    assert.match(real.lines[2]!, new RegExp(`${counted.source}$`));
    assert.deepEqual(real.lines.slice(3), ['retention: deleted 2']);
    assert.deepEqual(await dailyIndices(cli), [today]);

    const zero = await retentionCommand(['--days', '0', '--index-prefix', cli.prefix]);
    assert.equal(zero.code, 1);
    assert.match(zero.lines.join('\n'), /--days/);
  });

  it('refuses a prefix no index template of this project covers, listing the ones it found', async (t) => {
    const foreign = testElasticsearch('foreign');
    t.after(() => foreign.cleanup());
    // Someone else's indices under a template of their own, and a prefix with no template at all.
    await foreign.client.indices.putIndexTemplate({ name: indexTemplateName(foreign.prefix), index_patterns: [indexPattern(foreign.prefix)] });
    const theirs = `${foreign.prefix}-2020.01.01`;
    await foreign.client.indices.create({ index: theirs });
    for (const prefix of [foreign.prefix, `${es.prefix}-typo`]) {
      const refused = await retentionCommand(['--days', '1', '--index-prefix', prefix]);
      const text = refused.lines.join('\n');
      assert.equal(refused.code, 1, text);
      assert.match(text, new RegExp(`^retention: --index-prefix ${prefix}: no index template of this project on \\S+ covers this prefix .*nothing was deleted`));
      assert.ok(refused.lines.includes(`  ${indexTemplateName(es.prefix)} (prefix ${es.prefix})`), `lists this project's templates:\n${text}`);
      assert.ok(!text.includes(indexTemplateName(foreign.prefix)), 'and only those');
    }
    assert.equal(await foreign.client.indices.exists({ index: theirs }), true);
  });
});
