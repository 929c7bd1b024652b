// The run folder lock: one run at a time writes into a folder (an exclusive run.lock holding the
// owner's pid, host and start; a dead owner's lock is taken over).
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pidAlive } from './atomicWrite';

export const RUN_LOCK_FILE = 'run.lock';
/** An unreadable lock younger than this is being written by its owner; older, it was left by a crash. */
const UNREADABLE_LOCK_GRACE_MS = 10_000;

export interface RunLockOwner {
  pid: number;
  hostname: string;
  startedAt: string;
}

export class RunFolderInUseError extends Error {
  override readonly name = 'RunFolderInUseError';
  constructor(
    readonly dir: string,
    readonly owner: RunLockOwner | null,
  ) {
    const who = owner ? `process ${owner.pid} on ${owner.hostname}, since ${owner.startedAt}` : 'another process';
    super(`${dir} is in use by another run (${who}; lock file ${join(dir, RUN_LOCK_FILE)}): choose another output folder, or wait until that run ends`);
  }
}

export interface RunLock {
  readonly file: string;
  /** False when the lock was already held by an accepted owner (the host that started this trainer). */
  readonly owned: boolean;
  /** Removes the lock if this process still holds it. Idempotent. */
  release(): void;
}

function readLock(file: string): RunLockOwner | null {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as Partial<RunLockOwner>;
    return typeof v.pid === 'number' && typeof v.hostname === 'string' ? { pid: v.pid, hostname: v.hostname, startedAt: String(v.startedAt) } : null;
  } catch {
    return null;
  }
}

function lockIsStale(file: string, owner: RunLockOwner | null): boolean {
  if (!owner) {
    try {
      return Date.now() - statSync(file).mtimeMs > UNREADABLE_LOCK_GRACE_MS;
    } catch {
      return true;
    }
  }
  // A lock from another machine (a shared folder) cannot be checked: it holds.
  return owner.hostname === hostname() && !pidAlive(owner.pid);
}

/**
 * Who holds `<dir>/run.lock` now: its owner while that process lives (a lock from another machine
 * cannot be checked and counts as held), 'unreadable' while one is being written (or is garbage
 * not yet stale), undefined when the folder is free.
 */
export function lockHolder(dir: string): RunLockOwner | 'unreadable' | undefined {
  const file = join(dir, RUN_LOCK_FILE);
  if (!existsSync(file)) return undefined;
  const owner = readLock(file);
  if (lockIsStale(file, owner)) return undefined;
  return owner ?? 'unreadable';
}

/**
 * Takes `<dir>/run.lock` (created with O_EXCL, holding this pid). A lock of a dead process is taken
 * over; a lock of a live one throws RunFolderInUseError unless its pid is in `acceptOwners` (the
 * trainer accepts its host's lock: the host took it for this run).
 */
export function acquireRunLock(dir: string, acceptOwners: readonly number[] = []): RunLock {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, RUN_LOCK_FILE);
  const me: RunLockOwner = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o644);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = readLock(file);
      if (owner && owner.hostname === me.hostname && acceptOwners.includes(owner.pid)) return { file, owned: false, release: () => {} };
      if (attempt < 3 && lockIsStale(file, owner)) {
        rmSync(file, { force: true });
        continue;
      }
      throw new RunFolderInUseError(dir, owner);
    }
    try {
      writeSync(fd, `${JSON.stringify(me)}\n`);
    } finally {
      closeSync(fd);
    }
    let released = false;
    return {
      file,
      owned: true,
      release: () => {
        if (released) return;
        released = true;
        if (readLock(file)?.pid === me.pid) rmSync(file, { force: true });
      },
    };
  }
}
