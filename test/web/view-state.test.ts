// The page's URL ⇄ view mapping and the API parameters it derives (plain functions, no browser).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AUTH_METHODS, CATEGORIES } from '../../common/access-record.ts';
import { FILTER_PARAMS as API_FILTER_PARAMS } from '../../api/query/params.ts';
import { FIELDS } from '../../api/web/client/filter-bar.ts';
import { CATEGORY_LABEL, CATEGORY_ORDER } from '../../api/web/client/format.ts';
import { COLUMNS } from '../../api/web/client/table.ts';
import { COLUMN_IDS, DEFAULT_COLUMNS, FILTER_PARAMS, addFilter, filterParams, findingView, listParams, onlyFilter, parseView, removeFilter, serializeView } from '../../api/web/client/view-state.ts';

const NOW = Date.parse('2026-05-01T12:00:00.000Z');

describe('view state in the URL', () => {
  it('reads the default view from an empty query and writes it back empty', () => {
    const view = parseView('');
    assert.equal(view.range, '24h');
    assert.equal(view.page, 1);
    assert.equal(view.pageSize, 50);
    assert.equal(serializeView(view), '');
  });

  it('round-trips every part of a view', () => {
    const query = 'start_date=2026-04-01T00%3A00%3A00.000Z&end_date=2026-04-02T00%3A00%3A00.000Z&search=refused&category=denied&category=error&host=a.example&sort_by=host&sort_order=asc&page_size=25&page=3&cursor=abc&detail=req-1&live=1&tz=utc&columns=user%2Ctime%2Cagent';
    const view = parseView(query);
    assert.equal(view.range, undefined);
    assert.deepEqual(view.filters, { category: ['denied', 'error'], host: ['a.example'] });
    assert.equal(view.timeZone, 'utc');
    assert.deepEqual(view.columns, ['user', 'time', 'agent']);
    assert.equal(serializeView(view), query);
  });

  it('shows the default columns in local time unless the URL says otherwise, ignoring unknown columns', () => {
    assert.deepEqual(parseView('').columns, DEFAULT_COLUMNS);
    assert.equal(parseView('tz=mars').timeZone, 'local');
    assert.deepEqual(parseView('columns=nope,user,user').columns, ['user']);
    assert.deepEqual(parseView('columns=nope').columns, DEFAULT_COLUMNS);
    assert.deepEqual(Object.keys(COLUMNS).sort(), [...COLUMN_IDS].sort());
  });

  it("opens exactly an insight's filter set, keeping how the page shows things", () => {
    const view = parseView('range=7d&host=other.example&search=x&page=3&sort_by=host&columns=user,time&tz=utc&detail=r');
    const opened = findingView(view, {
      start_date: '2026-04-01T00:00:00.000Z',
      end_date: '2026-04-01T00:10:00.000Z',
      source_ip: '203.0.113.9',
      category: ['denied'],
      service_id: 'wiki',
    });
    assert.deepEqual([opened.range, opened.start, opened.end], [undefined, '2026-04-01T00:00:00.000Z', '2026-04-01T00:10:00.000Z']);
    assert.deepEqual(opened.filters, { category: ['denied'], service_id: ['wiki'], source_ip: ['203.0.113.9'] });
    assert.deepEqual([opened.search, opened.page, opened.detail], ['', 1, undefined]);
    assert.deepEqual([opened.sortBy, opened.columns, opened.timeZone], ['host', ['user', 'time'], 'utc']);
  });

  it('turns a preset into a start date that moves with the clock', () => {
    const q = filterParams(parseView('range=1h&method=GET'), NOW);
    assert.equal(q.get('start_date'), '2026-05-01T11:00:00.000Z');
    assert.equal(q.get('end_date'), null);
    assert.deepEqual(q.getAll('method'), ['GET']);
    assert.equal(q.get('range'), null);
  });

  it('asks for a page by cursor alone, and never sends page-only keys to the API', () => {
    const q = listParams(parseView('page=101&cursor=xyz&detail=r&live=1'), NOW);
    assert.equal(q.get('cursor'), 'xyz');
    assert.equal(q.get('page'), null);
    for (const key of ['detail', 'live', 'range']) assert.equal(q.get(key), null);
  });

  it('starts over at page one when the filters change, and adds a value once', () => {
    const view = parseView('page=4&cursor=c&detail=r');
    const added = addFilter(view, 'host', 'x.example');
    assert.equal(added.page, 1);
    assert.equal(added.cursor, undefined);
    assert.equal(added.detail, undefined);
    assert.equal(addFilter(added, 'host', 'x.example'), added);
    assert.deepEqual(removeFilter(added, 'host', 'x.example').filters, {});
    assert.deepEqual(onlyFilter(parseView('host=a&search=t&range=7d'), 'source_ip', '10.0.0.1'), {
      ...parseView('range=7d'),
      filters: { source_ip: ['10.0.0.1'] },
    });
  });

  it('offers exactly the API filters and the record outcomes and auth methods', () => {
    for (const param of FILTER_PARAMS) assert.ok(Object.hasOwn(API_FILTER_PARAMS, param), `${param} is an API filter`);
    assert.deepEqual(FIELDS.map((f) => f.param).sort(), [...FILTER_PARAMS].sort());
    assert.deepEqual([...FIELDS.find((f) => f.param === 'category')!.options!].sort(), [...CATEGORIES].sort());
    assert.deepEqual([...FIELDS.find((f) => f.param === 'auth_method')!.options!].sort(), [...AUTH_METHODS].sort());
    assert.deepEqual([...CATEGORY_ORDER].sort(), [...CATEGORIES].sort());
    assert.deepEqual(Object.keys(CATEGORY_LABEL).sort(), [...CATEGORIES].sort());
  });
});
