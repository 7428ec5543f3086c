// What a shipper suite runs in: an index prefix of its own on the shared Elasticsearch and a
// temporary folder with an empty log directory beside the (not yet created) state directory.

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ShipperArgs } from '../shipper/shipper-process.ts';
import { testElasticsearch, type TestElasticsearch } from './elasticsearch.ts';

export interface ShipperWorkspace {
  es: TestElasticsearch;
  dir: string;
  logs: string;
  state: string;
  /** The shipper's arguments for this workspace, with `args` appended. */
  shipper(args?: string[]): ShipperArgs;
  /** Deletes the prefix's indices and template and the folder. */
  remove(): Promise<void>;
}

export async function shipperWorkspace(suite: string): Promise<ShipperWorkspace> {
  const es = testElasticsearch(suite);
  const dir = await mkdtemp(join(tmpdir(), `shipper-${suite}-`));
  const logs = join(dir, 'logs');
  const state = join(dir, 'state');
  await mkdir(logs);
  return {
    es,
    dir,
    logs,
    state,
    shipper: (args = []) => ({ logs, state, connection: es.connection, prefix: es.prefix, args }),
    async remove() {
      await es.cleanup();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
