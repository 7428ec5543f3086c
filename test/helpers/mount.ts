// Mounts for suites that need a file system of their own (a tiny tmpfs to fill, a read-only one).
// Each returns the reason when this process may not mount (not root, no CAP_SYS_ADMIN), for the
// suite to skip saying why.

import { execFileSync } from 'node:child_process';

function mount(args: string[]): string | undefined {
  try {
    execFileSync('mount', args, { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    return (error as { stderr?: Buffer }).stderr?.toString().split('\n')[0] || (error as Error).message;
  }
}

/** Mounts a tmpfs of `size` (e.g. `1m`) at `path`. */
export function mountTmpfs(path: string, size: string): string | undefined {
  return mount(['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', path]);
}

export function remountReadOnly(path: string): string | undefined {
  return mount(['-o', 'remount,ro', path]);
}

/** Lazy: a failed run may have left a file open there. */
export function unmount(path: string): void {
  execFileSync('umount', ['--lazy', path]);
}
