// The sweep folder on disk: its name, sweep.json, each run's standalone experiment.cl.json (which
// the loader accepts alone and which reproduces the run's settings), and each run's state read
// from its folder (pending, running, completed, cancelled, failed, missing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseExperiment } from '../../src/engine/config/load';
import { createSweepFolder, isSweepFolder, readSweepIndex, sweepRunStates, updateSweepIndex } from '../../src/engine/sweep/folder';
import { SWEEP_FILE, SWEEP_FORMAT_VERSION, SWEEP_RUN_EXPERIMENT, type SweepIndex } from '../../src/protocol/sweep';
import { RUN_LOCK_FILE } from '../../src/engine/runLock';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'clw-sweep-'));
}

const EXPERIMENT = {
  name: 'EWC λ sweep',
  $schema: '../schemas/experiment.schema.json',
  tasks: [
    { dataset: 'idx', path: 'data/a', train: 100 },
    { dataset: 'mnist', train: 100 },
  ],
  strategy: { name: 'ewc' },
  landscape: false,
  sweep: { 'strategy.lambda': [100, 1000] },
  seeds: [0, 1],
};

function makeSweep(root: string, now = new Date(2026, 10, 30, 9, 5, 7)) {
  const file = join(root, 'exp', 'ewc.cl.json');
  const parsed = parseExperiment(JSON.stringify(EXPERIMENT), file);
  assert.ok(parsed.sweep, JSON.stringify(parsed.diagnostics));
  return { file, parsed, ...createSweepFolder(join(root, 'results'), parsed.experiment!.name, file, parsed.sweep, { type: 'local', parallel: 2 }, now) };
}

test('createSweepFolder: <resultsDir>/<YYYYMMDD-HHMMSS>-<name>-sweep/, sweep.json, runs/NNN-label/experiment.cl.json; a second one in the same second gets -2', () => {
  const root = tempDir();
  try {
    const { dir, index, file } = makeSweep(root);
    assert.equal(basename(dir), '20261130-090507-ewc-sweep-sweep');
    assert.ok(isSweepFolder(dir));
    const onDisk = JSON.parse(readFileSync(join(dir, SWEEP_FILE), 'utf8')) as SweepIndex;
    assert.deepEqual(onDisk, index);
    assert.equal(index.formatVersion, SWEEP_FORMAT_VERSION);
    assert.equal(index.kind, 'sweep');
    assert.equal(index.name, 'EWC λ sweep');
    assert.equal(index.experimentFile, file);
    assert.deepEqual(index.executor, { type: 'local', parallel: 2 });
    assert.deepEqual(index.axes, [{ path: 'strategy.lambda', values: [100, 1000] }, { path: 'seed', values: [0, 1] }]);
    assert.deepEqual(
      index.runs.map((r) => [r.index, r.folder, r.seed]),
      [
        [0, 'runs/000-lambda-100-seed-0', 0],
        [1, 'runs/001-lambda-100-seed-1', 1],
        [2, 'runs/002-lambda-1000-seed-0', 0],
        [3, 'runs/003-lambda-1000-seed-1', 1],
      ],
    );
    assert.deepEqual(readdirSync(join(dir, 'runs')).sort(), index.runs.map((r) => basename(r.folder)));
    // A standalone experiment: the name kept, no seeds/sweep/$schema, relative data paths made absolute.
    const runFile = join(dir, index.runs[3].folder, SWEEP_RUN_EXPERIMENT);
    const spec = JSON.parse(readFileSync(runFile, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(spec).sort(), ['landscape', 'name', 'seed', 'strategy', 'tasks']);
    assert.equal(spec.name, 'EWC λ sweep');
    assert.equal(spec.seed, 1);
    assert.deepEqual(spec.strategy, { name: 'ewc', lambda: 1000 });
    assert.equal((spec.tasks as { path?: string }[])[0].path, join(root, 'exp', 'data', 'a'));
    const alone = parseExperiment(readFileSync(runFile, 'utf8'), runFile);
    assert.equal(alone.sweep, undefined);
    assert.equal(alone.experiment?.name, 'EWC λ sweep');
    assert.equal(alone.experiment?.strategy.lambda, 1000);
    assert.equal(alone.experiment?.seed, 1);
    const second = makeSweep(root);
    assert.equal(basename(second.dir), '20261130-090507-ewc-sweep-sweep-2');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('readSweepIndex refuses what is not a sweep index, with the file and the reason; updateSweepIndex writes atomically', () => {
  const root = tempDir();
  try {
    assert.throws(() => readSweepIndex(root), /is not a sweep folder: it has no sweep\.json/);
    const { dir } = makeSweep(root);
    const file = join(dir, SWEEP_FILE);
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, '{"kind": "sweep", ');
    assert.throws(() => readSweepIndex(dir), (e: Error) => e.message.includes(file) && /not valid JSON/.test(e.message));
    writeFileSync(file, JSON.stringify({ ...JSON.parse(good), formatVersion: 99 }));
    assert.throws(() => readSweepIndex(dir), /format 99, newer than this version reads \(1\)/);
    const escaping = JSON.parse(good) as SweepIndex;
    escaping.runs[1].folder = '../../etc';
    writeFileSync(file, JSON.stringify(escaping));
    assert.throws(() => readSweepIndex(dir), /runs\[1\]\.folder "\.\.\/\.\.\/etc" is outside the sweep folder/);
    writeFileSync(file, good);
    const next = updateSweepIndex(dir, (ix) => {
      ix.executor = { type: 'slurm', submissions: [{ jobId: '7', arrayIndices: [0, 1, 2, 3], submittedAt: 'now', script: 'x.sh' }] };
    });
    assert.deepEqual(readSweepIndex(dir), next);
    assert.equal(next.executor.type, 'slurm');
    assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.tmp')), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('sweepRunStates: pending, running (lock held), completed, cancelled, failed (also a running result whose process died), missing', () => {
  const root = tempDir();
  try {
    const { dir, index } = makeSweep(root, new Date(2026, 0, 2, 3, 4, 5));
    const more = makeSweep(root, new Date(2026, 0, 2, 3, 4, 6));
    const runDir = (i: number) => join(dir, index.runs[i].folder);
    const result = (status: string, extra: object = {}) => JSON.stringify({ formatVersion: 2, runId: 'x', status, experiment: { tasks: [] }, tasks: [], phases: [], head: {}, accuracyMatrix: [], lossMatrix: [], curves: [], timing: {}, metrics: { acc: 0.5 }, ...extra });
    assert.deepEqual(sweepRunStates(dir, index), ['pending', 'pending', 'pending', 'pending']);
    writeFileSync(join(runDir(0), 'result.json'), result('completed'));
    writeFileSync(join(runDir(1), 'result.json'), result('running'));
    writeFileSync(join(runDir(1), RUN_LOCK_FILE), JSON.stringify({ pid: process.pid, hostname: hostname(), startedAt: 'now' }));
    writeFileSync(join(runDir(2), 'result.json'), result('failed', { error: { message: 'out of memory', phase: 'train' } }));
    rmSync(runDir(3), { recursive: true });
    assert.deepEqual(sweepRunStates(dir, index), ['completed', 'running', 'failed', 'missing']);
    // The lock of a process that is gone: the "running" result was interrupted.
    writeFileSync(join(runDir(1), RUN_LOCK_FILE), JSON.stringify({ pid: 2 ** 22 + 17, hostname: hostname(), startedAt: 'then' }));
    assert.equal(sweepRunStates(dir, index)[1], 'failed');
    rmSync(join(runDir(1), RUN_LOCK_FILE));
    writeFileSync(join(runDir(1), 'result.json'), result('cancelled'));
    assert.equal(sweepRunStates(dir, index)[1], 'cancelled');
    // No result yet but its lock held: started, not yet written.
    const other = join(more.dir, more.index.runs[0].folder);
    writeFileSync(join(other, RUN_LOCK_FILE), JSON.stringify({ pid: process.pid, hostname: hostname(), startedAt: 'now' }));
    assert.deepEqual(sweepRunStates(more.dir, more.index), ['running', 'pending', 'pending', 'pending']);
    writeFileSync(join(other, 'result.json'), '{not json');
    assert.equal(sweepRunStates(more.dir, more.index)[0], 'failed');
    assert.ok(existsSync(join(dir, SWEEP_FILE)));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
