// Result files are complete or untouched: writeFileAtomic under injected faults at every fs call,
// a really full disk (a 64 KiB tmpfs), a writer killed between its temp file and the rename; and the
// run folder lock (one run per folder, stale locks of dead processes taken over).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AtomicWriteError, pidAlive, removeStaleTempFiles, tempFileFor, writeFileAtomic, type AtomicFs } from '../../src/engine/atomicWrite';
import { acquireRunLock, RUN_LOCK_FILE, RunFolderInUseError } from '../../src/engine/runLock';

const ROOT = resolve(__dirname, '..', '..');
const { mkdtempSync, readdirSync, readFileSync, writeFileSync, existsSync } = fs;
const folder = () => mkdtempSync(join(tmpdir(), 'clw-atomic-'));
const temps = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.tmp'));
const errno = (code: string) => Object.assign(new Error(`${code}: injected`), { code });

/** A pid that surely belonged to a process and is now dead (it has exited and been reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  assert.ok(r.pid && !pidAlive(r.pid));
  return r.pid;
}

/** Another live process (not us, not our parent), killed in `after`. */
const sleepers: ChildProcess[] = [];
function livePid(): number {
  const c = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  sleepers.push(c);
  return c.pid!;
}
after(() => {
  for (const c of sleepers) c.kill('SIGKILL');
});

describe('writeFileAtomic', () => {
  test('replaces the file; no temp file left; the temp name carries the writer\'s pid', () => {
    const dir = folder();
    const file = join(dir, 'result.json');
    writeFileAtomic(file, '{"v":1}');
    writeFileAtomic(file, new TextEncoder().encode('{"v":2}'));
    assert.equal(readFileSync(file, 'utf8'), '{"v":2}');
    assert.deepEqual(temps(dir), []);
    assert.match(tempFileFor(file), new RegExp(`/\\.result\\.json\\.${process.pid}\\.\\d+-\\d+\\.tmp$`));
  });

  // Five injected faults, one at each fs call of a write.
  const faults: [string, (real: AtomicFs) => Partial<AtomicFs>][] = [
    ['open fails (EACCES)', () => ({ openSync: () => { throw errno('EACCES'); } })],
    ['the disk fills half way through (a short write, then ENOSPC)', (real) => {
      let calls = 0;
      return { writeSync: (fd, buf, off, len) => (++calls === 1 ? real.writeSync(fd, buf, off, Math.floor(len / 2)) : (() => { throw errno('ENOSPC'); })()) };
    }],
    ['fsync fails (EIO)', () => ({ fsyncSync: () => { throw errno('EIO'); } })],
    ['close fails (EDQUOT, reported at close on NFS)', (real) => ({ closeSync: (fd: number) => { real.closeSync(fd); throw errno('EDQUOT'); } })],
    ['rename fails (EBUSY)', () => ({ renameSync: () => { throw errno('EBUSY'); } })],
  ];
  for (const [name, inject] of faults) {
    test(`injected fault: ${name} -> AtomicWriteError, the previous file untouched, no temp file`, () => {
      const dir = folder();
      const file = join(dir, 'result.json');
      writeFileAtomic(file, '{"complete":true}');
      const real: AtomicFs = { openSync: fs.openSync, writeSync: fs.writeSync, fsyncSync: fs.fsyncSync, closeSync: fs.closeSync, renameSync: fs.renameSync };
      const err = (() => {
        try {
          writeFileAtomic(file, JSON.stringify({ complete: false, pad: 'x'.repeat(10_000) }), { ...real, ...inject(real) });
        } catch (e) {
          return e;
        }
        assert.fail('the write did not fail');
      })();
      assert.ok(err instanceof AtomicWriteError);
      assert.equal(err.path, file);
      assert.match(err.message, new RegExp(`^cannot write ${file}: .*; the previous file, if any, is unchanged$`));
      assert.equal(readFileSync(file, 'utf8'), '{"complete":true}');
      assert.deepEqual(temps(dir), []);
    });
  }

  test('a writer killed between its temp file and the rename: its temp is removed at the next write into the folder', () => {
    const dir = folder();
    const file = join(dir, 'result.json');
    writeFileAtomic(file, '{"v":1}');
    // A real crash: a process writes the temp file, then dies by SIGKILL where it would rename.
    const crash = spawnSync(
      process.execPath,
      ['--import', 'tsx', '-e', `const fs = require('node:fs'); require(${JSON.stringify(join(ROOT, 'src/engine/atomicWrite.ts'))}).writeFileAtomic(${JSON.stringify(file)}, '{"v":"torn?"}', { ...fs, renameSync: () => process.kill(process.pid, 'SIGKILL') });`],
      { cwd: ROOT },
    );
    assert.equal(crash.signal, 'SIGKILL', crash.stderr.toString());
    const left = temps(dir);
    assert.equal(left.length, 1, 'the crash left its temp file');
    assert.equal(readFileSync(file, 'utf8'), '{"v":1}', 'the result is the last complete one');
    writeFileAtomic(file, '{"v":2}');
    assert.deepEqual(temps(dir), [], 'cleaned at the next write');
    assert.equal(readFileSync(file, 'utf8'), '{"v":2}');
  });

  test('stale temp cleaning removes only temps of dead processes', () => {
    const dir = folder();
    const dead = deadPid();
    const live = livePid();
    const names = {
      dead: `.result.json.${dead}.1700000000000-1.tmp`,
      deadOther: `.host-metrics.json.${dead}.1700000000000-7.tmp`,
      live: `.result.json.${live}.1700000000000-1.tmp`,
      mine: `.result.json.${process.pid}.1700000000000-1.tmp`,
      unrelated: 'notes.tmp',
      noPid: '.result.json.tmp',
    };
    for (const n of Object.values(names)) writeFileSync(join(dir, n), 'x');
    assert.deepEqual(removeStaleTempFiles(dir).sort(), [names.dead, names.deadOther].sort());
    assert.deepEqual(readdirSync(dir).sort(), [names.live, names.mine, names.unrelated, names.noPid].sort());
    assert.deepEqual(removeStaleTempFiles(join(dir, 'missing')), []);
  });
});

// Mounted before the tests are named: the name says which of the two was tested.
const mountPoint = mkdtempSync(join(tmpdir(), 'clw-full-'));
const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mountPoint]).status === 0;

describe(mounted ? 'disk full: a real 64 KiB tmpfs' : 'disk full: INJECTED ENOSPC (mounting a tmpfs failed here)', () => {
  after(() => {
    if (mounted) spawnSync('umount', [mountPoint]);
  });

  /** Fills the file system: a filler file grown until ENOSPC. */
  function fill(dir: string): string {
    const filler = join(dir, 'filler');
    const fd = fs.openSync(filler, 'w');
    const chunk = Buffer.alloc(1024, 1);
    try {
      for (;;) fs.writeSync(fd, chunk);
    } catch (e) {
      assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
    } finally {
      fs.closeSync(fd);
    }
    return filler;
  }

  test('writing a result into a full disk: a clear ENOSPC error, the previous complete file untouched, no temp file', () => {
    const dir = mounted ? mountPoint : folder();
    const file = join(dir, 'result.json');
    const previous = JSON.stringify({ status: 'running', rows: [[0.9]] });
    writeFileAtomic(file, previous);
    const next = JSON.stringify({ status: 'completed', rows: [[0.9], [0.5, 0.8]], pad: 'x'.repeat(8_000) });
    let injected: AtomicFs | undefined;
    if (mounted) fill(dir);
    else injected = { openSync: fs.openSync, fsyncSync: fs.fsyncSync, closeSync: fs.closeSync, renameSync: fs.renameSync, writeSync: () => { throw errno('ENOSPC'); } };
    assert.throws(
      () => writeFileAtomic(file, next, injected),
      (e: unknown) => e instanceof AtomicWriteError && e.code === 'ENOSPC' && e.message === `cannot write ${file}: the disk is full (ENOSPC); the previous file, if any, is unchanged`,
    );
    assert.equal(readFileSync(file, 'utf8'), previous);
    assert.deepEqual(temps(dir), []);
    // Space again: the same write goes through.
    fs.rmSync(join(dir, 'filler'), { force: true });
    writeFileAtomic(file, next);
    assert.equal(readFileSync(file, 'utf8'), next);
  });
});

describe('run folder lock', () => {
  const lockOf = (dir: string) => JSON.parse(readFileSync(join(dir, RUN_LOCK_FILE), 'utf8')) as { pid: number; hostname: string };

  test('one holder: a second taker is refused, naming the holder and the lock file; released, the folder is free', () => {
    const dir = folder();
    const lock = acquireRunLock(dir);
    assert.equal(lock.owned, true);
    assert.deepEqual([lockOf(dir).pid, lockOf(dir).hostname], [process.pid, hostname()]);
    assert.throws(
      () => acquireRunLock(dir),
      (e: unknown) => e instanceof RunFolderInUseError && e.message.startsWith(`${dir} is in use by another run (process ${process.pid} on ${hostname()}, since `) && e.message.includes(join(dir, RUN_LOCK_FILE)),
    );
    lock.release();
    lock.release();
    assert.equal(existsSync(join(dir, RUN_LOCK_FILE)), false);
    acquireRunLock(dir).release();
  });

  test('a live process\'s lock refuses; accepted when it is the given owner (the trainer\'s host), and then not removed', () => {
    const dir = folder();
    const live = livePid();
    writeFileSync(join(dir, RUN_LOCK_FILE), JSON.stringify({ pid: live, hostname: hostname(), startedAt: 'then' }));
    assert.throws(() => acquireRunLock(dir), RunFolderInUseError);
    const accepted = acquireRunLock(dir, [live]);
    assert.equal(accepted.owned, false);
    accepted.release();
    assert.equal(lockOf(dir).pid, live);
  });

  test('a dead process\'s lock is taken over; a lock from another machine is not (its pid cannot be checked)', () => {
    const dir = folder();
    writeFileSync(join(dir, RUN_LOCK_FILE), JSON.stringify({ pid: deadPid(), hostname: hostname(), startedAt: 'then' }));
    const lock = acquireRunLock(dir);
    assert.equal(lockOf(dir).pid, process.pid);
    lock.release();
    writeFileSync(join(dir, RUN_LOCK_FILE), JSON.stringify({ pid: deadPid(), hostname: 'some-other-host', startedAt: 'then' }));
    assert.throws(() => acquireRunLock(dir), /process \d+ on some-other-host/);
  });

  test('an unreadable lock: being written if fresh (refused), a crash leftover if old (taken over)', () => {
    const dir = folder();
    const file = join(dir, RUN_LOCK_FILE);
    writeFileSync(file, '');
    assert.throws(() => acquireRunLock(dir), /in use by another run \(another process;/);
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(file, old, old);
    acquireRunLock(dir).release();
    assert.equal(existsSync(file), false);
  });
});
