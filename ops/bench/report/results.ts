// Everything one `npm run bench` measured, as written to ops/bench/report/results.json and read
// back by the report (so the page can be regenerated from a run without running it again).

import type { ApiResult } from '../peers/api-suite.ts';
import type { EnginesResult } from '../peers/engines-suite.ts';
import type { ProxySuiteResult } from '../peers/proxy-suite.ts';
import type { ScaleResult } from '../peers/scale-suite.ts';
import type { ShipperSuiteResult } from '../peers/shipper-suite.ts';

export interface Machine {
  cpu: string;
  cpus: number;
  memory_gib: number;
  os: string;
  kernel: string;
  node: string;
  elasticsearch: string;
  /** 1-minute load average when the run started and when it ended. */
  load_start: number;
  load_end: number;
}

export interface BenchResults {
  started: string;
  finished: string;
  command: string;
  machine: Machine;
  versions: Record<string, string>;
  proxy?: ProxySuiteResult;
  shipper?: ShipperSuiteResult;
  api?: ApiResult;
  scale?: ScaleResult;
  /** Elasticsearch and OpenSearch side by side (absent in results of runs before that part). */
  engines?: EnginesResult;
  /** Parts not run, with the reason. */
  skipped: Record<string, string>;
  /** Parts not run this time whose figures were kept from an earlier run: when that run started. */
  carried: Partial<Record<'proxy' | 'shipper' | 'api' | 'scale' | 'engines', string>>;
  /** Seconds each step of the run took (absent in results of runs before they were kept). */
  timings?: Record<string, number>;
}
