// `continual-workbench run FILE` on a sweep, for real: 2 strategies × 2 seeds on MNIST → Fashion-MNIST
// subsets in child processes, 2 at a time; every run completed, the comparison printed, a run's
// experiment.cl.json run alone gives bitwise the same R; a rerun into the folder skips completed
// runs; a run that fails is reported failed with its error and the exit code says so; Ctrl-C
// cancels the running children, which write cancelled results.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSweepIndex, sweepRunStates } from '../../src/engine/sweep/folder';
import type { RunResult } from '../../src/protocol/result';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'src', 'cli', 'main.ts');

interface Cli {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; `interruptWhen` returns true once it is time for Ctrl-C (polled). */
function cli(args: string[], opts: { interruptWhen?: (stderr: string) => boolean } = {}): Promise<Cli> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const poll = setInterval(() => {
      if (opts.interruptWhen && !interrupted && opts.interruptWhen(stderr)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    }, 100);
    child.on('close', (code) => {
      clearInterval(poll);
      done({ code, stdout, stderr });
    });
  });
}

function experiment(over: object): string {
  return JSON.stringify({
    name: 'cli sweep',
    tasks: [
      { dataset: 'mnist', train: 300, test: 200 },
      { dataset: 'fashion-mnist', train: 300, test: 200 },
    ],
    scenario: 'domain-il',
    model: { type: 'mlp', hidden: [32] },
    training: { epochs: 1, batchSize: 32, evalEvery: 5, evalSamples: 100 },
    landscape: false,
    ...over,
  });
}

function result(dir: string, folder: string): RunResult {
  return JSON.parse(readFileSync(join(dir, folder, 'result.json'), 'utf8')) as RunResult;
}

test('a 2 strategies × 2 seeds sweep runs in parallel processes; a run alone reproduces its R bitwise; a rerun skips completed runs', async () => {
  const root = mkdtempSync(join(tmpdir(), 'clw-sweep-cli-'));
  try {
    const file = join(root, 'sweep.cl.json');
    writeFileSync(file, experiment({ sweep: { strategy: [{ name: 'naive' }, { name: 'ewc', lambda: 100 }] }, seeds: [0, 1] }));
    const r = await cli(['run', file, '--out', join(root, 'results'), '--parallel', '2', '--backend', 'wasm']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /4 runs; 4 to run, 2 at a time/);
    for (const label of ['000-strategy-naive-seed-0', '001-strategy-naive-seed-1', '002-strategy-ewc-seed-0', '003-strategy-ewc-seed-1']) {
      assert.match(r.stderr, new RegExp(`\\[\\d/4\\] ${label}  completed  ACC [\\d.]+%`));
    }
    const dir = /^sweep: (.+)$/m.exec(r.stdout)![1];
    const index = readSweepIndex(dir);
    assert.deepEqual(sweepRunStates(dir, index), ['completed', 'completed', 'completed', 'completed']);
    assert.deepEqual(index.executor, { type: 'local', parallel: 2 });
    const results = index.runs.map((run) => result(dir, run.folder));
    assert.deepEqual(results.map((x) => [x.experiment.strategy.name, x.experiment.seed, x.experiment.name]), [
      ['naive', 0, 'cli sweep'],
      ['naive', 1, 'cli sweep'],
      ['ewc', 0, 'cli sweep'],
      ['ewc', 1, 'cli sweep'],
    ]);
    // Different seeds, different runs; the table of the comparison is printed.
    assert.notDeepEqual(results[0].accuracyMatrix, results[1].accuracyMatrix);
    assert.match(r.stdout, /4 runs in 2 groups/);

    // The run's experiment.cl.json alone, into a folder of its own: bitwise the same R.
    const alone = join(root, 'alone');
    const one = await cli(['run', join(dir, index.runs[3].folder, 'experiment.cl.json'), '--out', alone, '--json', '--backend', 'wasm']);
    assert.equal(one.code, 0, one.stderr);
    const single = JSON.parse(readFileSync(join(alone, 'result.json'), 'utf8')) as RunResult;
    assert.deepStrictEqual(single.accuracyMatrix, results[3].accuracyMatrix);
    assert.deepStrictEqual(single.lossMatrix, results[3].lossMatrix);

    // Again into the same sweep folder: nothing left to run.
    const again = await cli(['run', file, '--out', dir, '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /4 completed before \(skipped\); 0 to run/);
    const summary = JSON.parse(again.stdout.trim().split('\n').pop()!) as { runs: { state: string; skipped?: boolean }[] };
    assert.deepEqual(summary.runs.map((s) => [s.state, s.skipped]), Array(4).fill(['completed', true]));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a run that fails is marked failed with its error, the others complete, the exit code is 1', async () => {
  const root = mkdtempSync(join(tmpdir(), 'clw-sweep-cli-'));
  try {
    const file = join(root, 'fails.cl.json');
    const missing = join(root, 'no-such-data');
    writeFileSync(file, experiment({ sweep: { 'tasks.1': [{ dataset: 'fashion-mnist', train: 300, test: 200 }, { dataset: 'idx', path: missing }] } }));
    const r = await cli(['run', file, '--out', root, '--parallel', '2', '--backend', 'wasm', '--no-download']);
    assert.equal(r.code, 1, r.stderr);
    const dir = /^sweep: (.+)$/m.exec(r.stdout)![1];
    const index = readSweepIndex(dir);
    assert.deepEqual(sweepRunStates(dir, index), ['completed', 'failed']);
    assert.match(r.stderr, /\[\d\/2\] 001-tasks1-2  FAILED: dataset 'idx': the task's path has no complete set of IDX files[^]*no-such-data/);
    assert.match(r.stderr, /^failed: 001-tasks1-2: dataset 'idx'/m);
    assert.match(r.stderr, /\[\d\/2\] 000-tasks1-1  completed/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('Ctrl-C cancels every running run: each writes its cancelled result, runs not started stay pending, exit code 130', async () => {
  const root = mkdtempSync(join(tmpdir(), 'clw-sweep-cli-'));
  try {
    const file = join(root, 'long.cl.json');
    // Long enough to be interrupted mid-training (many iterations of a tiny model).
    writeFileSync(file, experiment({ training: { iterations: 5000, batchSize: 32, evalEvery: 1000, evalSamples: 100 }, seeds: [0, 1, 2] }));
    // Once both runs have started (each has written its first result, status "running").
    const training = (stderr: string) => {
      const dir = /^sweep: (.+)$/m.exec(stderr)?.[1];
      if (!dir) return false;
      return ['000-seed-0', '001-seed-1'].every((f) => {
        try {
          return (JSON.parse(readFileSync(join(dir, 'runs', f, 'result.json'), 'utf8')) as RunResult).status === 'running';
        } catch {
          return false;
        }
      });
    };
    const r = await cli(['run', file, '--out', root, '--parallel', '2', '--backend', 'wasm'], { interruptWhen: training });
    assert.equal(r.code, 130, r.stderr);
    const dir = /^sweep: (.+)$/m.exec(r.stdout)![1];
    const index = readSweepIndex(dir);
    const states = sweepRunStates(dir, index);
    assert.deepEqual(states, ['cancelled', 'cancelled', 'pending'], r.stderr);
    assert.match(r.stderr, /1 run\(s\) not started \(cancelled\)/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
