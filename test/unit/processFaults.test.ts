// Process-level faults around result folders, with real processes and real data: two runs pointed
// at one folder (the CLI's --out, two hosts, a trainer given someone else's folder), a stale lock
// after kill -9, the disk filling up during a run (a real 64 KiB tmpfs), and temp files of a crashed
// writer. Faults are triggered by run events or process output, never by sleeping.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { loadBackend } from '../../src/engine/backend';
import { runExperiment } from '../../src/engine/runner';
import { AtomicWriteError } from '../../src/engine/atomicWrite';
import { RUN_LOCK_FILE } from '../../src/engine/runLock';
import { reserveRunDir, runFolderName } from '../../src/extension/runFolder';
import { TrainerProcess, TrainerRun, type ForkFn } from '../../src/extension/trainerProcess';
import { ROOT, TINY, TRAINER_SOURCE, TSX, leftovers, readResultFile, trainerOptions, twoTaskSpec, workspace, writeExperiment } from '../helpers/trainer';

const CLI = join(ROOT, 'src', 'cli', 'main.ts');
const { readdirSync, readFileSync, writeFileSync, existsSync } = fs;

const folder = () => workspace('clw-faults-');

/** TINY for minutes: the first run still trains when the second one comes. */
const LONG = twoTaskSpec('long', [200, 200], 200);

const children: ChildProcess[] = [];
const mounts: string[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const m of mounts) spawnSync('umount', [m]);
});

/** A 64 KiB tmpfs, or null when this machine cannot mount one. */
function smallDisk(): string | null {
  const dir = folder();
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]).status !== 0) return null;
  mounts.push(dir);
  return dir;
}
// Probed once, so the test names say what was tested (CLW_TEST_NO_TMPFS=1 forces the fallback).
const probe = process.env.CLW_TEST_NO_TMPFS ? null : smallDisk();
const canMount = probe !== null;

const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
/** Fallback without tmpfs, in this process: every fs.writeSync fails with ENOSPC until restored. */
function injectFullDisk(): () => void {
  // The module object itself (an `import * as` namespace is a copy).
  const nodeFs = require('node:fs') as { writeSync: unknown };
  const real = nodeFs.writeSync;
  nodeFs.writeSync = () => {
    throw enospc();
  };
  return () => (nodeFs.writeSync = real);
}
/** Fallback without tmpfs, in a trainer: a preload that fails every write once the trainer has sent 'dataReady'. */
const TRAINER_FULL_DISK_PRELOAD =
  'data:text/javascript,' +
  encodeURIComponent(`import fs from 'node:fs';
let full = false;
const send = process.send.bind(process);
process.send = (m, ...rest) => { if (m && m.type === 'event' && m.event.type === 'dataReady') full = true; return send(m, ...rest); };
const write = fs.writeSync;
fs.writeSync = (...a) => { if (full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }); return write(...a); };`);

/** Fills the disk holding `dir`: a filler file grown until ENOSPC. */
function fillDisk(dir: string): void {
  const fd = fs.openSync(join(dir, 'filler'), 'w');
  try {
    for (;;) fs.writeSync(fd, Buffer.alloc(1024, 1));
  } catch (e) {
    assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    fs.closeSync(fd);
  }
}

interface Cli {
  child: ChildProcess;
  stderr: () => string;
  /** Resolves with the first stderr line matching `re`. */
  line(re: RegExp): Promise<string>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function cli(file: string, out: string): Cli {
  const child = spawn(process.execPath, ['--import', TSX, CLI, 'run', file, '--out', out, '--backend', 'wasm', '--no-download'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let text = '';
  const waiters: { re: RegExp; res: (l: string) => void }[] = [];
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    text += d;
    for (const w of [...waiters]) {
      const m = text.split('\n').find((l) => w.re.test(l));
      if (m !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.res(m);
      }
    }
  });
  const exit = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  return { child, stderr: () => text, exit, line: (re) => new Promise((res) => waiters.push({ re, res })) };
}

describe('two runs, one folder', { concurrency: false }, () => {
  test('CLI --out: a second run into a folder in use is refused (exit 3, naming the first); after kill -9 of the first, its stale lock is taken over', async () => {
    const dir = folder();
    const out = join(dir, 'out');
    const long = writeExperiment(dir, LONG);
    const a = cli(long.file, out);
    await a.line(/^data: /); // the first run has its data and its result file
    const before = readFileSync(join(out, 'result.json'), 'utf8');

    const b = cli(long.file, out);
    const bEnd = await b.exit;
    assert.equal(bEnd.code, 3, b.stderr());
    assert.match(b.stderr(), new RegExp(`^error: ${out} is in use by another run \\(process ${a.child.pid} on `));
    assert.equal(readFileSync(join(out, 'result.json'), 'utf8'), before, 'the refused run wrote nothing');
    assert.equal(JSON.parse(readFileSync(join(out, RUN_LOCK_FILE), 'utf8')).pid, a.child.pid);

    a.child.kill('SIGKILL');
    assert.equal((await a.exit).signal, 'SIGKILL');
    assert.ok(existsSync(join(out, RUN_LOCK_FILE)), 'kill -9 leaves its lock behind');
    assert.equal(readResultFile(join(out, 'result.json')).status, 'running', 'and its result says it never ended');

    const c = cli(writeExperiment(dir, TINY).file, out);
    const cEnd = await c.exit;
    assert.equal(cEnd.code, 0, c.stderr());
    const r = readResultFile(join(out, 'result.json'));
    assert.equal(r.status, 'completed');
    assert.equal(r.experiment.name, 'tiny');
    assert.deepEqual(leftovers(out), [], 'lock released, no temp file');
  });

  test('two windows start the same experiment in the same second: each run gets its own folder (mkdir is the claim)', () => {
    const results = folder();
    const now = new Date(2026, 0, 2, 3, 4, 5);
    const dirs = Array.from({ length: 5 }, () => reserveRunDir(results, 'Same name', now));
    assert.equal(new Set(dirs).size, 5);
    assert.deepEqual(dirs.map((d) => d.slice(results.length + 1)), [1, 2, 3, 4, 5].map((n) => runFolderName('Same name', now, n)));
  });

  test('the host refuses a run folder another live run holds: failed, saying so, no trainer started, nothing written', async () => {
    const dir = folder();
    const x = writeExperiment(dir, TINY);
    const runDir = reserveRunDir(join(dir, 'runs'), 'tiny');
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    children.push(other);
    writeFileSync(join(runDir, RUN_LOCK_FILE), JSON.stringify({ pid: other.pid, hostname: require('node:os').hostname(), startedAt: 'earlier' }));
    writeFileSync(join(runDir, 'result.json'), '{"theirs":true}');
    let forks = 0;
    const counting: ForkFn = (...args) => {
      forks++;
      return fork(...args);
    };
    const tp = new TrainerProcess({ ...trainerOptions(), fork: counting });
    const run = tp.start(new TrainerRun(x.file, x.experiment, runDir));
    await run.done;
    other.kill('SIGKILL');
    assert.equal(forks, 0);
    assert.equal(run.outcome, 'failed');
    assert.match(run.endMessage!, new RegExp(`^the trainer process could not run: ${runDir} is in use by another run \\(process ${other.pid} on `));
    assert.equal(readFileSync(join(runDir, 'result.json'), 'utf8'), '{"theirs":true}');
    assert.deepEqual(readdirSync(runDir).sort(), ['result.json', RUN_LOCK_FILE].sort());
  });

  test('a trainer given a folder another process holds refuses it (exit 3, saying why) and writes nothing', async () => {
    const dir = folder();
    const x = writeExperiment(dir, TINY);
    const out = join(dir, 'out');
    fs.mkdirSync(out);
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    children.push(other);
    writeFileSync(join(out, RUN_LOCK_FILE), JSON.stringify({ pid: other.pid, hostname: require('node:os').hostname(), startedAt: 'earlier' }));
    const trainer = fork(TRAINER_SOURCE, [], { execArgv: ['--import', TSX], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    children.push(trainer);
    let stderr = '';
    trainer.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const messages: unknown[] = [];
    trainer.on('message', (m) => messages.push(m));
    trainer.send({ type: 'run', experimentFile: x.file, outDir: out, backend: 'wasm' });
    const [code] = await once(trainer, 'exit');
    other.kill('SIGKILL');
    assert.equal(code, 3);
    assert.match(stderr, new RegExp(`${out} is in use by another run \\(process ${other.pid} on `));
    assert.deepEqual(messages, []);
    assert.deepEqual(readdirSync(out), [RUN_LOCK_FILE]);
  });
});

describe(canMount ? 'the disk fills up during a run (a real 64 KiB tmpfs)' : 'the disk fills up during a run (INJECTED ENOSPC: mounting a tmpfs failed here)', { concurrency: false }, () => {
  let restore: (() => void) | undefined;
  after(() => restore?.());
  /** A folder whose writes fail with ENOSPC from the moment `fill` is called (in this process). */
  function disk(): { dir: string; fill: () => void } {
    const dir = canMount ? (!readdirSync(probe!).length ? probe! : smallDisk()!) : folder();
    return { dir, fill: () => (canMount ? fillDisk(dir) : (restore = injectFullDisk())) };
  }

  test('the runner: the next result write fails with a clear ENOSPC error; the last complete result.json stays valid; no temp file', async () => {
    const { tf, info } = await loadBackend('wasm');
    const { dir, fill } = disk();
    const x = writeExperiment(folder(), TINY);
    let error: unknown;
    try {
      await runExperiment({ tf, environment: info, experiment: x.experiment, outDir: dir, allowDownload: false, onEvent: (e) => e.type === 'dataReady' && fill() });
    } catch (e) {
      error = e;
    }
    restore?.();
    assert.ok(error instanceof AtomicWriteError, `expected an AtomicWriteError, got ${error}`);
    assert.equal(error.message, `cannot write ${join(dir, 'result.json')}: the disk is full (ENOSPC); the previous file, if any, is unchanged`);
    const r = readResultFile(join(dir, 'result.json'));
    assert.equal(r.status, 'running', 'the result written before the disk filled, complete');
    assert.equal(r.experiment.name, 'tiny');
    assert.deepEqual(leftovers(dir), []);
  });

  test('under the host: the run fails saying the disk is full; result.json stays valid JSON; no temp file or lock left', async () => {
    // Filled from the host's side when the trainer reports its data (the trainer's next write is after the first task).
    const { dir, fill } = canMount ? disk() : { dir: folder(), fill: () => {} };
    const x = writeExperiment(folder(), TINY);
    const logs: string[] = [];
    const tp = new TrainerProcess({
      ...trainerOptions(),
      execArgv: canMount ? ['--import', TSX] : ['--import', TSX, '--import', TRAINER_FULL_DISK_PRELOAD],
      listener: {
        log: (_r, m) => logs.push(m),
        event: (_r, e) => {
          if (e.type === 'dataReady') fill();
        },
      },
    });
    const runDir = join(dir, 'run');
    fs.mkdirSync(runDir);
    const run = tp.start(new TrainerRun(x.file, x.experiment, runDir));
    await run.done;
    assert.equal(run.outcome, 'failed', logs.join('\n'));
    assert.match(run.endMessage!, new RegExp(`^the trainer process exited with code 1 before reporting an end\\. Last error: AtomicWriteError: cannot write ${join(runDir, 'result.json')}: the disk is full \\(ENOSPC\\)`));
    if (canMount) assert.ok(logs.some((l) => /could not write the failed result: .*the disk is full/.test(l)), 'the host tried, and said why it could not');
    // On the full disk the host cannot write its failed result either: the last complete one stays.
    assert.equal(readResultFile(run.resultFile).status, canMount ? 'running' : 'failed', 'a complete result, never a torn one');
    assert.deepEqual(leftovers(runDir), []);
  });
});

test('temp files of a crashed writer in a run folder are removed by the runner\'s next write', async () => {
  const { tf, info } = await loadBackend('wasm');
  const out = folder();
  const dead = spawnSync(process.execPath, ['-e', '0']).pid;
  const stale = [`.result.json.${dead}.1700000000000-1.tmp`, `.report.html.${dead}.1700000000000-2.tmp`];
  for (const f of stale) writeFileSync(join(out, f), '{"torn":');
  const x = writeExperiment(folder(), { ...TINY, tasks: TINY.tasks!.slice(0, 1) });
  const r = await runExperiment({ tf, environment: info, experiment: x.experiment, outDir: out, allowDownload: false });
  assert.equal(r.status, 'completed', r.error?.message);
  assert.deepEqual(readdirSync(out), ['result.json']);
});
