import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  FIELD,
  FIELD_TYPE,
  dailyIndexName,
  dayOfDailyIndex,
  indexTemplate,
} from '../common/proxy-event-document.ts';
import { createUpcomingIndices, installIndexTemplate } from '../common/index-lifecycle.ts';
import { testElasticsearch, type TestElasticsearch } from './helpers/elasticsearch.ts';

describe('daily index names', () => {
  it('names the UTC day of a moment and reads it back', () => {
    const at = new Date('2026-03-09T23:59:59.999Z');
    assert.equal(dailyIndexName('events', at), 'events-2026.03.09');
    assert.deepEqual(dayOfDailyIndex('events', 'events-2026.03.09'), new Date('2026-03-09T00:00:00Z'));
  });

  it('refuses names that are not daily indices of the prefix', () => {
    assert.equal(dayOfDailyIndex('events', 'other-2026.03.09'), undefined);
    assert.equal(dayOfDailyIndex('events', 'events-2026.13.45'), undefined);
    assert.equal(dayOfDailyIndex('events', 'events-latest'), undefined);
  });
});

describe('index template on a real node', () => {
  let es: TestElasticsearch;
  before(() => {
    es = testElasticsearch('template');
  });
  after(async () => es.cleanup());

  it('maps every field with its declared type in a new daily index', async () => {
    const template = indexTemplate(es.prefix);
    await es.client.indices.putIndexTemplate(template);
    await es.client.indices.putIndexTemplate(template);
    const index = dailyIndexName(es.prefix, new Date());
    await es.client.indices.create({ index });
    const mapping = await es.client.indices.getFieldMapping({ index, fields: Object.values(FIELD) });
    const mapped = mapping[index]!.mappings;
    for (const name of Object.values(FIELD)) {
      const leaf = name.split('.').at(-1)!;
      const entry = mapped[name]?.mapping[leaf] as { type?: string } | undefined;
      assert.equal(entry?.type, FIELD_TYPE[name], `${name} is mapped as ${FIELD_TYPE[name]}`);
    }
  });

  it('keeps unknown fields out of the mapping', async () => {
    const index = dailyIndexName(es.prefix, new Date());
    await es.client.index({ index, document: { surprise: { deep: 'value' } }, refresh: true });
    const mapping = await es.client.indices.getMapping({ index });
    assert.equal(JSON.stringify(mapping[index]!.mappings).includes('surprise'), false);
  });
});

describe('upcoming daily indices', () => {
  let es: TestElasticsearch;
  before(() => {
    es = testElasticsearch('upcoming');
  });
  after(async () => es.cleanup());

  it('creates today and tomorrow ahead of their first event, and again changes nothing', async () => {
    await installIndexTemplate(es.storage, es.prefix);
    const now = new Date('2026-12-31T23:30:00Z');
    const created = await createUpcomingIndices(es.storage, es.prefix, now);
    assert.deepEqual(created, [`${es.prefix}-2026.12.31`, `${es.prefix}-2027.01.01`]);
    await es.client.index({ index: created[0]!, document: { '@timestamp': now.toISOString() }, refresh: true });
    await createUpcomingIndices(es.storage, es.prefix, now);
    const health = await es.client.cluster.health({ index: created.join(','), wait_for_status: 'yellow', timeout: '5s' });
    assert.equal(health.active_primary_shards, 2, 'both shards started');
    const count = await es.client.count({ index: created[0]! });
    assert.equal(count.count, 1, 'an existing index is left as it is');
  });
});
