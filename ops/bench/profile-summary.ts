// `node ops/bench/profile-summary.ts FILE.cpuprofile [--top N]`: where a process spent its busy
// time, from a V8 CPU profile (`node --cpu-prof`, or `npm run bench:proxy -- --profile DIR`), read
// without a browser. Self time only (a function's own samples, not its callees'), as shares of the
// busy time (every sample but idle), grouped by who owns the code: this project, each dependency,
// Node's own JavaScript, and what has no script (V8 builtins and native calls such as `writev`,
// the garbage collector).

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame }[];
  samples: number[];
  timeDeltas: number[];
}

const PROJECT_FOLDERS = ['proxy/', 'shipper/', 'api/', 'common/', 'ops/'];
const IDLE = '(idle)';

/** Who owns a frame's code: this project, a dependency (by package name), Node, or nobody's script. */
function ownerOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : 'native and V8 builtins';
  if (url.startsWith('node:')) return 'Node (JavaScript)';
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (inModules) return inModules[1]!;
  if (url.startsWith('wasm://')) return 'WebAssembly';
  const path = url.replace(/^file:\/\//, '');
  return PROJECT_FOLDERS.some((folder) => path.includes(`/${folder}`)) ? 'this project' : 'other scripts';
}

/** A frame as a reader finds it: the function, and the file and line relative to the repository or package. */
function nameOf(frame: CallFrame): string {
  const where = frame.url.replace(/^file:\/\//, '').replace(/^.*node_modules\//, '').replace(/^.*?\/((?:proxy|shipper|api|common|ops)\/)/, '$1');
  return where === '' ? frame.functionName || '(anonymous)' : `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`;
}

function summarise(file: string, top: number): string[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const selfMicros = new Map<number, number>();
  profile.samples.forEach((id, index) => selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let idle = 0;
  let total = 0;
  for (const node of profile.nodes) {
    const micros = selfMicros.get(node.id) ?? 0;
    total += micros;
    if (node.callFrame.functionName === IDLE) {
      idle += micros;
      continue;
    }
    const owner = ownerOf(node.callFrame);
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + micros);
    const name = nameOf(node.callFrame);
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
  }
  const busy = total - idle;
  const share = (micros: number) => `${((100 * micros) / busy).toFixed(1).padStart(5)} %`;
  const ranked = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]);
  return [
    `${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (${((100 * busy) / total).toFixed(0)} %)`,
    '',
    'busy time by owner:',
    ...ranked(byOwner).map(([owner, micros]) => `  ${share(micros)}  ${owner}`),
    '',
    `busy time by function (self), top ${top}:`,
    ...ranked(byFunction)
      .slice(0, top)
      .map(([name, micros]) => `  ${share(micros)}  ${name}`),
  ];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
const top = Number(values.top);
if (positionals.length === 0 || !Number.isInteger(top) || top < 1) {
  process.stderr.write('usage: node ops/bench/profile-summary.ts FILE.cpuprofile… [--top N]\n');
  process.exit(1);
}
for (const file of positionals) process.stdout.write(`${summarise(file, top).join('\n')}\n\n`);
