// The host's trainer processes, for real: the trainer forked from source (tsx) on tiny real
// MNIST / Fashion-MNIST subsets. Queue, cancel, kill -9, a trainer that ignores cancel, shutdown and
// a trainer that cannot start. Faults are triggered by run events, never by sleeping; the kill
// timers are injected so a grace period only ends when the test says so.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { RunEvent } from '../../src/protocol/events';
import type { NormalisedExperiment } from '../../src/protocol/experiment';
import type { RunResult } from '../../src/protocol/result';
import { reserveRunDir } from '../../src/extension/runFolder';
import { HOST_METRICS_FILE, TrainerProcess, TrainerRun, type ForkFn, type TrainerProcessOptions } from '../../src/extension/trainerProcess';
import type { Timers } from '../../src/extension/throttle';
import { ROOT, TINY, leftovers, readResultFile, trainerOptions, twoTaskSpec, workspace, writeExperiment } from '../helpers/trainer';

const IGNORES_CANCEL = join(ROOT, 'test', 'fixtures', 'trainerIgnoresCancel.mjs');

/** A short first task, then minutes of training: faults land in the second task. */
const LONG = twoTaskSpec('long', [64, 2000], 50);

/** Timers that only fire when the test fires them. */
class ManualTimers implements Timers {
  private next = 1;
  readonly pending = new Map<number, { fn: () => void; ms: number }>();
  set(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.pending.set(id, { fn, ms });
    return id;
  }
  clear(h: unknown): void {
    this.pending.delete(h as number);
  }
  fireAll(): number[] {
    const fired = [...this.pending.values()];
    this.pending.clear();
    for (const t of fired) t.fn();
    return fired.map((t) => t.ms);
  }
}

interface Recorder {
  events: Map<TrainerRun, RunEvent[]>;
  launched: TrainerRun[];
  ended: TrainerRun[];
  logs: string[];
}

function host(overrides: Partial<TrainerProcessOptions<TrainerRun>> & { onEvent?: (tp: TrainerProcess, run: TrainerRun, e: RunEvent) => void; onLaunch?: (tp: TrainerProcess, run: TrainerRun) => void } = {}) {
  const rec: Recorder = { events: new Map(), launched: [], ended: [], logs: [] };
  const { onEvent, onLaunch, ...opts } = overrides;
  const tp: TrainerProcess = new TrainerProcess({
    ...trainerOptions(),
    timers: new ManualTimers(),
    ...opts,
    listener: {
      log: (run, m) => rec.logs.push(`[${run.name}] ${m}`),
      event: (run, e) => {
        if (!rec.events.has(run)) rec.events.set(run, []);
        rec.events.get(run)!.push(e);
        onEvent?.(tp, run, e);
      },
      launched: (run) => {
        rec.launched.push(run);
        onLaunch?.(tp, run);
      },
      ended: (run) => rec.ended.push(run),
    },
  });
  return { tp, rec };
}

function newRun(dir: string, x: { file: string; experiment: NormalisedExperiment }): TrainerRun {
  return new TrainerRun(x.file, x.experiment, reserveRunDir(join(dir, 'runs'), x.experiment.name));
}

/** The result on disk: complete JSON, a Continual Workbench result; the folder has no temp file or lock left. */
function resultOnDisk(run: TrainerRun): RunResult {
  const result = readResultFile(run.resultFile);
  assert.deepEqual(leftovers(run.runDir), [], `left in ${run.runDir}`);
  return result;
}

const types = (rec: Recorder, run: TrainerRun) => (rec.events.get(run) ?? []).map((e) => e.type);

describe('trainer processes (real trainer from source, tiny real data)', { concurrency: false }, () => {
  test('two runs, limit 1: the first completes (result, host metrics, every event folded); the second waits for its end, then runs', async () => {
    const dir = workspace();
    const x = writeExperiment(dir, TINY);
    const activeAtLaunch: number[] = [];
    const { tp, rec } = host({ maxConcurrentRuns: () => 1, onLaunch: (tp) => activeAtLaunch.push(tp.activeRuns.length) });
    const a = tp.start(newRun(dir, x));
    const b = tp.start(newRun(dir, x));
    assert.notEqual(a.runDir, b.runDir, 'each run its own folder');
    assert.deepEqual([a.phase, b.phase], ['running', 'queued']);
    assert.ok(tp.pidOf(a)! > 0 && tp.pidOf(a) !== process.pid, 'training runs in its own process');
    assert.equal(tp.pidOf(b), undefined, 'no process for a queued run');
    assert.deepEqual(tp.unfinished, [a, b]);
    await a.done;
    assert.equal(a.outcome, 'completed', `${a.endMessage}\n${rec.logs.join('\n')}`);
    assert.equal(a.endMessage, undefined);
    // b was launched from a's end: a had ended before b had a process.
    assert.deepEqual(rec.launched, [a, b]);
    assert.deepEqual(rec.ended, [a]);
    assert.deepEqual(activeAtLaunch, [1, 1], 'never more than one trainer');
    const r = resultOnDisk(a);
    assert.equal(r.status, 'completed');
    assert.equal(r.accuracyMatrix.length, 2);
    assert.deepEqual(r.accuracyMatrix, a.state!.result.accuracyMatrix, 'the host\'s fold is the trainer\'s result');
    const t = types(rec, a);
    assert.equal(t[0], 'runStarted');
    assert.equal(t.at(-1), 'finished');
    assert.equal(t.filter((x) => x === 'taskFinished').length, 2);
    const metrics = JSON.parse(readFileSync(join(a.runDir, HOST_METRICS_FILE), 'utf8')) as { hostPid: number; trainerPid: number; samples: number };
    assert.equal(metrics.hostPid, process.pid);
    assert.ok(typeof metrics.trainerPid === 'number' && metrics.trainerPid !== process.pid);
    await b.done;
    assert.equal(b.outcome, 'completed');
    assert.ok(b.launchedAt >= a.launchedAt);
    assert.equal(resultOnDisk(b).status, 'completed');
    assert.deepEqual(tp.unfinished, []);
  });

  test('cancel during training: the trainer stops itself; the cancelled result keeps the finished row', async () => {
    const dir = workspace();
    const timers = new ManualTimers();
    const { tp, rec } = host({
      timers,
      // The first task's row is in; cancel as the second task starts.
      onEvent: (tp, run, e) => {
        if (e.type === 'taskStarted' && e.task === 1) tp.cancel(run);
      },
    });
    const run = tp.start(newRun(dir, writeExperiment(dir, LONG)));
    await run.done;
    assert.equal(run.outcome, 'cancelled', `${run.endMessage}\n${rec.logs.join('\n')}`);
    assert.equal(run.endMessage, undefined, 'stopped by itself, not killed');
    assert.deepEqual([...timers.pending.values()], [], 'the kill timer was cleared');
    const r = resultOnDisk(run);
    assert.equal(r.status, 'cancelled');
    assert.equal(r.accuracyMatrix.length, 1, 'the first task\'s row is kept');
    assert.equal(r.accuracyMatrix[0].length, 2);
    assert.equal(r.error, undefined);
  });

  test('kill -9 of the trainer mid-training: the host writes a failed result, valid JSON, no temp file', async () => {
    const dir = workspace();
    let killed: number | undefined;
    const { tp, rec } = host({
      onEvent: (tp, run, e) => {
        if (e.type === 'curvePoint' && killed === undefined) {
          killed = tp.pidOf(run)!;
          process.kill(killed, 'SIGKILL');
        }
      },
    });
    const run = tp.start(newRun(dir, writeExperiment(dir, LONG)));
    await run.done;
    assert.ok(killed);
    assert.equal(run.outcome, 'failed', rec.logs.join('\n'));
    assert.equal(run.endMessage, 'the trainer process was killed by SIGKILL');
    const r = resultOnDisk(run);
    assert.equal(r.status, 'failed');
    assert.deepEqual(r.error, { phase: 'trainer', message: 'the trainer process was killed by SIGKILL' });
    assert.ok(r.curves.length >= 1, 'the curve points that arrived are kept');
    assert.equal(r.totalSteps, run.state!.result.totalSteps);
    assert.ok(r.timing.finishedAt, 'marked finished');
    assert.ok(existsSync(join(run.runDir, HOST_METRICS_FILE)));
  });

  test('the UI torn down first (the output channel closed: every listener call throws): the run still ends and its result is written', async () => {
    const dir = workspace();
    let torn = false;
    let killed: number | undefined;
    const throwIfTorn = () => {
      if (torn) throw new Error('Channel has been closed');
    };
    const tp: TrainerProcess = new TrainerProcess({
      ...trainerOptions(),
      timers: new ManualTimers(),
      listener: {
        log: throwIfTorn,
        changed: throwIfTorn,
        ended: throwIfTorn,
        event: (run, e) => {
          throwIfTorn();
          if (e.type === 'curvePoint' && killed === undefined) {
            torn = true;
            killed = tp.pidOf(run)!;
            process.kill(killed, 'SIGKILL');
          }
        },
      },
    });
    const run = tp.start(newRun(dir, writeExperiment(dir, LONG)));
    await run.done;
    assert.ok(killed);
    assert.equal(run.outcome, 'failed');
    const r = resultOnDisk(run);
    assert.equal(r.status, 'failed', 'never left saying running');
    assert.equal(r.error?.message, 'the trainer process was killed by SIGKILL');
  });

  test('disposed mid-run (VS Code disposes before the shutdown in deactivate ends): cancelled because the window closed, result on disk', async () => {
    const dir = workspace();
    let disposed = false;
    const { tp } = host({
      onEvent: (tp, _run, e) => {
        if (e.type === 'curvePoint' && !disposed) {
          disposed = true;
          tp.dispose();
        }
      },
    });
    const run = tp.start(newRun(dir, writeExperiment(dir, LONG)));
    await run.done;
    assert.ok(disposed);
    assert.equal(run.outcome, 'cancelled');
    const r = resultOnDisk(run);
    assert.equal(r.status, 'cancelled');
    assert.equal(r.error?.message, 'the trainer was stopped: the window closed (the extension host shut down)');
  });

  test('a trainer that ignores cancel is killed when the grace ends: cancelled, the host writes the result', async () => {
    const dir = workspace();
    const timers = new ManualTimers();
    let graces: number[] = [];
    const { tp, rec } = host({
      entry: IGNORES_CANCEL,
      execArgv: [],
      timers,
      onEvent: (tp, run, e) => {
        if (e.type === 'runStarted') tp.cancel(run, 50);
        // It answered the cancel and kept going: end the grace now.
        if (e.type === 'log' && e.message === 'ignoring cancel') graces = timers.fireAll();
      },
    });
    const x = writeExperiment(dir, TINY);
    // The fixture sends the file's content as the recorded experiment: give it the normalised one.
    writeFileSync(x.file, JSON.stringify(x.experiment));
    const run = tp.start(newRun(dir, x));
    await run.done;
    assert.deepEqual(graces, [50], 'one kill timer, of the grace asked for');
    assert.equal(run.outcome, 'cancelled', rec.logs.join('\n'));
    assert.equal(run.endMessage, 'the trainer did not stop within 50 ms of the cancel request and was killed');
    assert.ok(rec.logs.some((l) => l.includes('SIGKILL')));
    const r = resultOnDisk(run);
    assert.equal(r.status, 'cancelled');
    assert.equal(r.error?.message, run.endMessage);
  });

  test('shutdown mid-run (the window closes): every run ends cancelled; the running ones with a result, the queued one leaves no folder', async () => {
    const dir = workspace();
    const x = writeExperiment(dir, LONG);
    const training = new Set<TrainerRun>();
    let shutdown: Promise<void> | undefined;
    const { tp, rec } = host({
      maxConcurrentRuns: () => 2,
      onEvent: (tp, run, e) => {
        if (e.type !== 'curvePoint') return;
        training.add(run);
        if (training.size === 2 && !shutdown) shutdown = tp.shutdown(500);
      },
    });
    const runs = [tp.start(newRun(dir, x)), tp.start(newRun(dir, x)), tp.start(newRun(dir, x))];
    assert.deepEqual(runs.map((r) => r.phase), ['running', 'running', 'queued']);
    await Promise.all(runs.map((r) => r.done));
    assert.ok(shutdown);
    await shutdown;
    assert.deepEqual(runs.map((r) => r.outcome), ['cancelled', 'cancelled', 'cancelled'], rec.logs.join('\n'));
    for (const run of runs.slice(0, 2)) {
      assert.equal(run.endMessage, undefined, 'each trainer stopped itself within the grace');
      const r = resultOnDisk(run);
      assert.equal(r.status, 'cancelled');
      assert.ok(r.accuracyMatrix.length < 2);
    }
    assert.equal(runs[2].endMessage, 'cancelled before it started');
    assert.equal(existsSync(runs[2].runDir), false, 'no empty folder for the run that never ran');
    assert.equal(rec.launched.length, 2, 'the queued run was not started by the shutdown');
  });

  test('a trainer that cannot start (bad entry path): failed, saying why, with a failed result on disk', async () => {
    const dir = workspace();
    const { tp, rec } = host({ entry: join(dir, 'no-such-trainer.js'), execArgv: [] });
    const run = tp.start(newRun(dir, writeExperiment(dir, TINY)));
    await run.done;
    assert.equal(run.outcome, 'failed', rec.logs.join('\n'));
    assert.equal(run.endMessage, `the trainer process exited with code 1 before reporting an end. Last error: Error: Cannot find module '${join(dir, 'no-such-trainer.js')}'`);
    const r = resultOnDisk(run);
    assert.equal(r.status, 'failed');
    assert.equal(r.error?.phase, 'trainer');
    assert.equal(r.experiment.name, 'tiny');
  });

  test('fork itself throws (no process at all): failed, "could not run", the next queued run still starts', async () => {
    const dir = workspace();
    let forks = 0;
    const throwing: ForkFn = () => {
      forks++;
      throw Object.assign(new Error('spawn EAGAIN'), { code: 'EAGAIN' });
    };
    const { tp } = host({ fork: throwing, maxConcurrentRuns: () => 1 });
    const x = writeExperiment(dir, TINY);
    const a = tp.start(newRun(dir, x));
    const b = tp.start(newRun(dir, x));
    await Promise.all([a.done, b.done]);
    assert.equal(forks, 2, 'the queue moved on after the first failure');
    for (const run of [a, b]) {
      assert.equal(run.outcome, 'failed');
      assert.equal(run.endMessage, 'the trainer process could not run: spawn EAGAIN');
      assert.equal(resultOnDisk(run).status, 'failed');
    }
  });

  test('the host process dies (window closed without shutdown): the orphaned trainer cancels itself and writes the result', async () => {
    const dir = workspace();
    let child: ChildProcess | undefined;
    const capture: ForkFn = (path, args, options) => {
      const { fork } = require('node:child_process') as typeof import('node:child_process');
      child = fork(path, args, options);
      return child;
    };
    let exitReported = false;
    const { tp } = host({
      fork: capture,
      onEvent: (_tp, run, e) => {
        // What the trainer sees when the extension host is gone: its IPC channel closes.
        if (e.type === 'taskStarted' && e.task === 1) child!.disconnect();
        if (e.type === 'finished') exitReported = true;
      },
    });
    const run = tp.start(newRun(dir, writeExperiment(dir, LONG)));
    // The trainer's own result, as it exits (before the host, still alive here, looks at it).
    const [code, onDisk, reported] = await new Promise<[number | null, string, boolean]>((res) =>
      child!.once('exit', (c) => res([c, readFileSync(run.resultFile, 'utf8'), exitReported])),
    );
    assert.equal(code, 0);
    assert.equal(reported, false, 'nothing reached the host after the disconnect');
    assert.equal((JSON.parse(onDisk) as RunResult).status, 'cancelled', 'the trainer wrote a cancelled result itself');
    // Node emits no 'close' after a disconnect: the host still ends the run, and keeps the trainer's result.
    await run.done;
    assert.equal(run.outcome, 'cancelled');
    assert.equal(readFileSync(run.resultFile, 'utf8'), onDisk, 'the host did not overwrite the trainer\'s end');
    assert.equal(resultOnDisk(run).accuracyMatrix.length, 1);
  });
});
