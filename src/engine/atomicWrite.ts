// File safety for results: atomic writes (readers see the old file or the new, never a torn one),
// temp files of crashed writers removed (the run folder lock is in runLock.ts).
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
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
