// File safety for results: atomic writes (readers see the old file or the new, never a torn one),
// temp files of crashed writers removed, and the run folder lock (one run writes into a folder).
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';

/** A write that did not happen; the previous file (if any) is unchanged and no temp file is left. */
export class AtomicWriteError extends Error {
  override readonly name = 'AtomicWriteError';
  constructor(
    readonly path: string,
    readonly code: string | undefined,
    cause: Error,
  ) {
    const reason = code === 'ENOSPC' ? 'the disk is full (ENOSPC)' : code === 'EDQUOT' ? 'the disk quota is exceeded (EDQUOT)' : cause.message;
    super(`cannot write ${path}: ${reason}; the previous file, if any, is unchanged`, { cause });
  }
}

/** Node's fs calls used by writeFileAtomic, injectable so a test can fail any one of them. */
export interface AtomicFs {
  openSync: typeof openSync;
  writeSync: (fd: number, buf: Uint8Array, off: number, len: number) => number;
  fsyncSync: typeof fsyncSync;
  closeSync: typeof closeSync;
  renameSync: typeof renameSync;
}
// Looked up at each call, so a test's patch of node:fs reaches a write deep inside a run.
const nodeFs: AtomicFs = {
  openSync: (...a: Parameters<typeof openSync>) => openSync(...a),
  writeSync: (fd, buf, off, len) => writeSync(fd, buf, off, len),
  fsyncSync: (fd) => fsyncSync(fd),
  closeSync: (fd) => closeSync(fd),
  renameSync: (from, to) => renameSync(from, to),
};

const TEMP_NAME = /^\..+\.(\d+)\.\d+-\d+\.tmp$/;
let tempCounter = 0;

/** The temp file a write of `path` goes through: `.<name>.<pid>.<time>-<n>.tmp`, beside the target. */
export function tempFileFor(path: string, pid = process.pid): string {
  return join(dirname(path), `.${basename(path)}.${pid}.${Date.now()}-${++tempCounter}.tmp`);
}

/** True when a process with this pid exists on this machine (EPERM: it exists, owned by someone else). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temp files that writers which died mid-write left in `dir`; returns their names. */
export function removeStaleTempFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    // Our own temps belong to a write in progress (a worker thread shares the pid); live pids are writing.
    if (pid === process.pid || pidAlive(pid)) continue;
    try {
      rmSync(join(dir, name), { force: true });
      removed.push(name);
    } catch {
      // gone already or not ours to remove: harmless
    }
  }
  return removed;
}

/**
 * Writes a file so that readers see either the old content or the new, never a torn file:
 * temp file in the same folder, fsync, rename over the target. Temp files of dead writers in the
 * folder are removed first. Throws AtomicWriteError (disk full, permissions...) with nothing left behind.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, fs: AtomicFs = nodeFs): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  removeStaleTempFiles(dir);
  const tmp = tempFileFor(path);
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, 'w', 0o644);
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(tmp, path);
  } catch (err) {
    if (fd !== null) {
      try {
        fs.closeSync(fd);
      } catch {
        // the write's error is the one to report
      }
    }
    rmSync(tmp, { force: true });
    const e = err as NodeJS.ErrnoException;
    throw new AtomicWriteError(path, e.code, e);
  }
}

// ---- The run folder lock: one run at a time writes into a folder. ----

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
