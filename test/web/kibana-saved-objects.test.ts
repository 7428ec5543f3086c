// The saved objects of Kibana and of OpenSearch Dashboards: each committed NDJSON is what the
// generator makes, every field it names exists in the index template with a type its use needs,
// each chart's aggregation runs on a real node over real documents, and the OpenSearch Dashboards
// objects carry only attributes its saved-object types map.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_INDEX_PREFIX, indexPattern, indexTemplate } from '../../common/proxy-event-document.ts';
import { APPS, savedObjectsNdjson, type App, type SavedObject } from '../../ops/kibana/saved-objects.ts';
import { testElasticsearch, type TestElasticsearch } from '../helpers/elasticsearch.ts';
import { testRecord } from '../helpers/records.ts';
import { indexRecords } from './dataset.ts';

const committed = (app: App) => readFileSync(APPS[app].file, 'utf8');
const objectsOf = (app: App) => committed(app).trim().split('\n').map((line) => JSON.parse(line) as SavedObject);

/**
 * The attributes each saved-object type of OpenSearch Dashboards (2.x, 3.x) maps. Its saved-objects
 * index refuses any other attribute (strict mapping), except on index patterns, whose mapping is
 * not strict and whose `timeFieldName` is read unmapped. Its legacy visualization types: no Lens.
 */
const OPENSEARCH_DASHBOARDS_TYPES: Record<SavedObject['type'], string[]> = {
  'index-pattern': ['title', 'timeFieldName'],
  search: ['columns', 'description', 'hits', 'kibanaSavedObjectMeta', 'sort', 'columnWidths', 'title', 'version'],
  visualization: ['description', 'kibanaSavedObjectMeta', 'savedSearchRefName', 'title', 'uiStateJSON', 'version', 'visState'],
  dashboard: ['description', 'hits', 'kibanaSavedObjectMeta', 'optionsJSON', 'panelsJSON', 'refreshInterval', 'timeFrom', 'timeRestore', 'timeTo', 'title', 'version'],
};
const OPENSEARCH_DASHBOARDS_VIS_TYPES = ['histogram', 'horizontal_bar', 'line', 'area', 'pie', 'metric', 'table'];

type Need = 'date' | 'aggregatable' | 'sortable' | 'any';
interface Usage {
  field: string;
  need: Need;
  where: string;
}

interface Agg {
  type: string;
  params: { field?: string };
}

/** Every field the objects name, read back from the NDJSON itself (not from the generator's tables). */
function usages(objects: SavedObject[]): Usage[] {
  const found: Usage[] = [];
  for (const object of objects) {
    const a = object.attributes;
    if (object.type === 'index-pattern') found.push({ field: a.timeFieldName as string, need: 'date', where: object.id });
    if (object.type === 'search') {
      for (const column of a.columns as string[]) found.push({ field: column, need: 'any', where: `${object.id} column` });
      for (const [field] of a.sort as [string, string][]) found.push({ field, need: 'sortable', where: `${object.id} sort` });
    }
    if (object.type === 'visualization') {
      for (const agg of (JSON.parse(a.visState as string) as { aggs: Agg[] }).aggs) {
        if (agg.type === 'date_histogram') found.push({ field: agg.params.field!, need: 'date', where: `${object.id} date_histogram` });
        if (agg.type === 'terms') found.push({ field: agg.params.field!, need: 'aggregatable', where: `${object.id} terms` });
      }
    }
    const source = (a.kibanaSavedObjectMeta as { searchSourceJSON: string } | undefined)?.searchSourceJSON;
    const kql = source ? (JSON.parse(source) as { query: { query: string } }).query.query : '';
    for (const match of kql.matchAll(/([\w.@]+)\s*:/g)) found.push({ field: match[1]!, need: 'aggregatable', where: `${object.id} query` });
  }
  return found;
}

type Mapping = { type?: string; properties?: Record<string, Mapping>; fields?: Record<string, Mapping> };

/** The mapped type of a dotted field in the index template, sub-fields included. */
function templateType(field: string): string | undefined {
  let level: Record<string, Mapping> | undefined = indexTemplate('any').template.mappings.properties as Record<string, Mapping>;
  let node: Mapping | undefined;
  for (const part of field.split('.')) {
    node = level?.[part] ?? node?.fields?.[part];
    if (!node) return undefined;
    level = node.properties;
  }
  return node?.type;
}

const ALLOWED: Record<Need, string[]> = {
  date: ['date'],
  aggregatable: ['keyword', 'long', 'float', 'ip', 'date'],
  sortable: ['keyword', 'long', 'float', 'ip', 'date'],
  any: ['keyword', 'text', 'long', 'float', 'ip', 'date', 'geo_point'],
};

for (const app of Object.keys(APPS) as App[]) describe(`${APPS[app].name} saved objects`, () => {
  const objects = objectsOf(app);

  it('are what ops/kibana/generate.ts makes for the default prefix', () => {
    assert.equal(committed(app), savedObjectsNdjson(DEFAULT_INDEX_PREFIX, app));
  });

  it('hold a data view, a saved search, four charts and a dashboard of them', () => {
    const dataView = objects.find((o) => o.type === 'index-pattern')!;
    assert.equal(dataView.attributes.title, indexPattern(DEFAULT_INDEX_PREFIX));
    assert.equal(objects.filter((o) => o.type === 'visualization').length, 4);
    const dashboard = objects.find((o) => o.type === 'dashboard')!;
    const panels = JSON.parse(dashboard.attributes.panelsJSON as string) as { panelRefName: string }[];
    assert.equal(panels.length, 5);
    for (const panel of panels) {
      const ref = dashboard.references.find((r) => r.name === panel.panelRefName);
      assert.ok(ref && objects.some((o) => o.id === ref.id && o.type === ref.type), `${panel.panelRefName} resolves`);
    }
    for (const object of objects) {
      for (const ref of object.references) assert.ok(objects.some((o) => o.id === ref.id && o.type === ref.type), `${object.id} → ${ref.id}`);
    }
    assert.equal(new Set(objects.map((o) => o.id)).size, objects.length);
  });

  it('name only fields the index template maps, with the type each use needs', () => {
    const found = usages(objects);
    assert.ok(found.length >= 20, 'the objects name fields');
    for (const { field, need, where } of found) {
      const type = templateType(field);
      assert.ok(type, `${where}: ${field} is in the index template`);
      assert.ok(ALLOWED[need].includes(type), `${where}: ${field} is ${type}, needs ${need}`);
    }
  });

  describe('charts on a real node', () => {
    let es: TestElasticsearch;
    before(async () => {
      es = testElasticsearch(app);
      await indexRecords(es.client, es.prefix, Array.from({ length: 60 }, (_, i) => testRecord(i)));
    });
    after(async () => es?.cleanup());

    it('each visualization aggregation returns buckets', async () => {
      for (const object of objects.filter((o) => o.type === 'visualization')) {
        const aggs = (JSON.parse(object.attributes.visState as string) as { aggs: Agg[] }).aggs.filter((a) => a.type !== 'count');
        const source = JSON.parse((object.attributes.kibanaSavedObjectMeta as { searchSourceJSON: string }).searchSourceJSON) as { query: { query: string } };
        // KQL `field : "value"` is a term query on a keyword field.
        const kql = /^([\w.]+) : "([^"]+)"$/.exec(source.query.query);
        const request = Object.fromEntries(
          aggs.map((agg, n) => [
            String(n),
            agg.type === 'date_histogram' ? { date_histogram: { field: agg.params.field!, fixed_interval: '1h' } } : { terms: { field: agg.params.field!, size: 10 } },
          ]),
        );
        const response = await es.client.search({
          index: indexPattern(es.prefix),
          size: 0,
          query: kql ? { term: { [kql[1]!]: kql[2]! } } : { match_all: {} },
          aggs: request,
        });
        for (const id of Object.keys(request)) {
          const buckets = (response.aggregations![id] as { buckets: unknown[] }).buckets;
          assert.ok(buckets.length > 0, `${object.id} aggregation ${id} has buckets`);
        }
      }
    });
  });
});

describe('OpenSearch Dashboards saved objects, as its saved-object types take them', () => {
  const objects = objectsOf('opensearch-dashboards');

  it('carry only the attributes each type maps, and legacy visualizations', () => {
    for (const object of objects) {
      for (const attribute of Object.keys(object.attributes)) {
        assert.ok(OPENSEARCH_DASHBOARDS_TYPES[object.type].includes(attribute), `${object.id}: ${object.type} maps no ${attribute}`);
      }
      if (object.type === 'visualization') {
        const { type } = JSON.parse(object.attributes.visState as string) as { type: string };
        assert.ok(OPENSEARCH_DASHBOARDS_VIS_TYPES.includes(type), `${object.id}: ${type} is a legacy visualization type`);
      }
    }
  });

  it('say their dashboard panels were saved past the layouts it migrates (before 7.3)', () => {
    const dashboard = objects.find((o) => o.type === 'dashboard')!;
    for (const panel of JSON.parse(dashboard.attributes.panelsJSON as string) as { version: string }[]) {
      const [major, minor] = panel.version.split('.').map(Number);
      assert.ok(major! > 7 || (major === 7 && minor! >= 3), `panel version ${panel.version}`);
    }
  });
});
