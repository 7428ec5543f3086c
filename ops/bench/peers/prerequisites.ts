// What the benchmark needs from Debian, checked before anything starts. As root, missing packages
// are installed with apt-get; the packages' own services are then stopped and disabled, because
// the benchmark runs its own instances on 127.0.0.1 with its own configs, and a system nginx or
// HAProxy listening on public ports is not something a benchmark should leave behind. Otherwise
// the exact command is printed and the run stops.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ProxyAccessLogError } from '../../../common/errors.ts';

export class PrerequisiteError extends ProxyAccessLogError {
  readonly code = 'BENCH_PREREQUISITES_MISSING';
}

interface Need {
  package: string;
  present: () => boolean;
}

const onPath = (command: string) => () => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
const RSYSLOG_MODULE_DIRS = ['/usr/lib/x86_64-linux-gnu/rsyslog', '/usr/lib/aarch64-linux-gnu/rsyslog', '/usr/lib/rsyslog'];

export function rsyslogModuleDir(): string | undefined {
  return RSYSLOG_MODULE_DIRS.find((dir) => existsSync(`${dir}/omelasticsearch.so`));
}

const NEEDS: Record<string, Need[]> = {
  proxy: [
    { package: 'nginx', present: onPath('nginx') },
    { package: 'haproxy', present: onPath('haproxy') },
    { package: 'caddy', present: onPath('caddy') },
    { package: 'wrk', present: onPath('wrk') },
    { package: 'util-linux', present: onPath('taskset') },
  ],
  shipper: [
    { package: 'rsyslog', present: onPath('rsyslogd') },
    { package: 'rsyslog-elasticsearch', present: () => rsyslogModuleDir() !== undefined },
  ],
  scale: [{ package: 'wrk', present: onPath('wrk') }],
  report: [{ package: 'librsvg2-bin', present: onPath('rsvg-convert') }],
};

/** System services some of these packages install; stopped and disabled after an install. */
const SERVICES = ['nginx', 'haproxy', 'caddy', 'rsyslog'];

function stopServices(log: (line: string) => void): void {
  for (const service of SERVICES) {
    if (existsSync('/run/systemd/system')) {
      spawnSync('systemctl', ['disable', '--now', service], { stdio: 'ignore' });
    } else if (existsSync(`/etc/init.d/${service}`)) {
      spawnSync(`/etc/init.d/${service}`, ['stop'], { stdio: 'ignore' });
      spawnSync('update-rc.d', [service, 'disable'], { stdio: 'ignore' });
    }
  }
  log(`system services stopped and disabled where present: ${SERVICES.join(', ')}`);
}

export function ensurePrerequisites(parts: string[], log: (line: string) => void): void {
  const missing = [...new Set(parts.flatMap((part) => NEEDS[part] ?? []).filter((need) => !need.present()).map((need) => need.package))];
  if (missing.length === 0) return;
  const command = `apt-get install -y ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) throw new PrerequisiteError(`missing Debian packages; install them with:\n  sudo apt-get update && sudo ${command}`);
  log(`installing ${missing.join(', ')} (${command})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-q'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  execFileSync('apt-get', ['install', '-y', '-q', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env });
  stopServices(log);
  const still = parts.flatMap((part) => NEEDS[part] ?? []).filter((need) => !need.present());
  if (still.length) throw new PrerequisiteError(`still missing after apt-get install: ${still.map((need) => need.package).join(', ')}`);
}
