// Retention deletes exactly the daily indices older than N days, never another prefix's, and a
// dry run deletes nothing; the template installs idempotently. The command lists before it
// deletes and refuses a prefix that is not this project's.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { applyRetention, installIndexTemplate, retentionCutoff } from '../../common/index-lifecycle.ts';
import { indexPattern, indexTemplateName } from '../../common/proxy-event-document.ts';
import { childEnv, testElasticsearch, type TestElasticsearch } from '../helpers/elasticsearch.ts';

const NOW = new Date('2026-03-10T08:30:00.000Z');
const DAYS = ['2026.02.27', '2026.02.28', '2026.03.01', '2026.03.02', '2026.03.03', '2026.03.09', '2026.03.10'];

describe('retention', () => {
  let es: TestElasticsearch;
  let outputDir: string;
  let runs = 0;
  before(async () => {
    outputDir = await mkdtemp(join(tmpdir(), 'retention-test-'));
    es = testElasticsearch('retention');
    await installIndexTemplate(es.client, es.prefix);
    await installIndexTemplate(es.client, es.prefix);
    for (const day of DAYS) await es.client.indices.create({ index: `${es.prefix}-${day}` });
    // Look-alikes that are not daily indices of the prefix.
    await es.client.indices.create({ index: `${es.prefix}-archive` });
    await es.client.indices.create({ index: `${es.prefix}-x-2020.01.01` });
  });
  after(async () => {
    await es.cleanup();
    await rm(outputDir, { recursive: true, force: true });
  });

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

  it('runs from the command line: lists every index and the count before deleting, dry run included', async () => {
    const expired = ['2026.03.03', '2026.03.09', '2026.03.10'].map((day) => `${es.prefix}-${day}`);
    const dry = await retentionCommand(['--days', '1', '--dry-run', '--index-prefix', es.prefix]);
    assert.equal(dry.code, 0, dry.lines.join('\n'));
    assert.deepEqual(dry.lines.slice(0, 3), expired);
    assert.match(dry.lines[3]!, new RegExp(`^retention: 3 daily indices of ${es.prefix} are older than \\d{4}-\\d{2}-\\d{2}; 0 kept\\. Dry run: nothing deleted$`));
    assert.equal(dry.lines.length, 4);
    assert.ok((await remaining()).includes(expired[0]!), 'a dry run deletes nothing');

    const real = await retentionCommand(['--days', '1', '--index-prefix', es.prefix]);
    assert.equal(real.code, 0, real.lines.join('\n'));
    assert.deepEqual(real.lines.slice(0, 3), expired);
    assert.match(real.lines[3]!, /^retention: 3 daily indices of .* are older than .*; 0 kept$/);
    assert.deepEqual(real.lines.slice(4), ['retention: deleted 3']);
    assert.deepEqual(await remaining(), [`${es.prefix}-archive`, `${es.prefix}-x-2020.01.01`]);

    const zero = await retentionCommand(['--days', '0', '--index-prefix', es.prefix]);
    assert.equal(zero.code, 1);
    assert.match(zero.lines.join('\n'), /--days/);
  });

  it('refuses a prefix no index template of this project covers, listing the ones it found', async () => {
    const foreign = testElasticsearch('foreign');
    try {
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
    } finally {
      await foreign.cleanup();
    }
  });
});
