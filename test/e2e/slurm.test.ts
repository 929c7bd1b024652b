// End-to-end: a sweep on a real Slurm cluster (a single node on this machine, started by
// scripts/slurm-cluster.sh). 2 strategies x 2 seeds on MNIST -> Fashion-MNIST subsets are submitted
// as one job array through the built CLI; squeue is recorded while they run; all four complete and a
// run's accuracy matrix equals, bit for bit, the same experiment run locally. A second sweep has an
// array task that fails (its experiment points at a missing IDX folder): it shows as failed with its
// log, and a resubmit submits only that index, which then completes.
// Needs root and Slurm (.ci/install-slurm.sh); fails, never skips, when Slurm is missing.
// Run: npm run build && node --import tsx --test test/e2e/slurm.test.ts
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Comparison } from '../../src/protocol/compare';
import type { RunResult } from '../../src/protocol/result';
import { SWEEP_FILE, SWEEP_RUN_EXPERIMENT, type SweepIndex } from '../../src/protocol/sweep';
import { parseExperiment } from '../../src/engine/config/load';
import { createSweepFolder } from '../../src/engine/sweep/folder';
import { execSlurm, parseJobCompLog, parseSlurmConfig, type SlurmRunStatus } from '../../src/engine/sweep/slurm';
import { slurmSweepStatus, submitSweepToSlurm } from '../../src/cli/slurm';

const REPO_ROOT = resolve(__dirname, '..', '..');
const CLI = join(REPO_ROOT, 'dist', 'cli.js');
const CLUSTER = join(REPO_ROOT, 'scripts', 'slurm-cluster.sh');
const RUN_TIMEOUT_MS = 15 * 60_000;

const work = mkdtempSync(join(tmpdir(), 'clw-slurm-e2e-'));
const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
const say = (line: string) => process.stdout.write(`# [${elapsed()}] ${line}\n`);

function checkReady(): void {
  const missing = ['/usr/sbin/slurmctld', '/usr/sbin/slurmd', '/usr/sbin/munged', '/usr/bin/sbatch', '/usr/bin/squeue', '/usr/bin/scontrol'].filter((f) => !existsSync(f));
  if (missing.length) throw new Error(`Slurm is not installed (missing ${missing.join(', ')}): run \`sudo bash .ci/install-slurm.sh\` first`);
  if (process.getuid?.() !== 0) throw new Error('the Slurm end-to-end test starts a cluster on this machine and must run as root');
  if (!existsSync(CLI)) throw new Error(`CLI not built (missing ${CLI}): run \`npm run build\` first`);
  if (!existsSync('/usr/share/datasets/fashion-mnist')) throw new Error('Fashion-MNIST is missing: apt-get install -y dataset-fashion-mnist');
}

function cluster(cmd: 'start' | 'stop' | 'status'): string {
  const r = spawnSync('bash', [CLUSTER, cmd], { encoding: 'utf8' });
  const out = `${r.stdout}${r.stderr}`;
  if (r.status !== 0 && cmd !== 'status') throw new Error(`scripts/slurm-cluster.sh ${cmd} failed (exit ${r.status}):\n${out}`);
  return out;
}

/** The experiment file of the sweep: naive and EWC x seeds 0 and 1, small subsets, no landscape. */
function writeExperiment(name: string, sweep: Record<string, unknown>): string {
  const file = join(work, `${name.replace(/\W+/g, '-')}.cl.json`);
  const spec = {
    name,
    ...sweep,
    tasks: [
      { dataset: 'mnist', train: 500, test: 300 },
      { dataset: 'fashion-mnist', train: 500, test: 300 },
    ],
    model: { preset: 'mlp' },
    training: { optimizer: 'adam', learningRate: 0.001, batchSize: 50, epochs: 1, evalEvery: 5, evalSamples: 100 },
    strategy: { name: 'naive' },
    landscape: false,
  };
  writeFileSync(file, JSON.stringify(spec, null, 2));
  return file;
}

/** The sweep folder of an experiment file, as `run --executor slurm` makes it, not yet submitted. */
function createSweep(file: string, resultsDir: string): string {
  const { experiment, sweep, diagnostics } = parseExperiment(readFileSync(file, 'utf8'), file);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  assert.equal(errors.length, 0, errors.map((d) => d.message).join('\n'));
  assert.ok(experiment && sweep, 'the experiment expands to a sweep');
  return createSweepFolder(resultsDir, experiment.name, file, sweep, { type: 'slurm', submissions: [] }).dir;
}

/** `continual-workbench run FILE --executor slurm --out OUT`: a new sweep folder under OUT, or OUT's runs resubmitted when it is one. */
function cliSubmit(file: string, out: string): string {
  const r = spawnSync(process.execPath, [CLI, 'run', file, '--executor', 'slurm', '--out', out], { encoding: 'utf8', cwd: work });
  say(`continual-workbench run ${file} --executor slurm --out ${out}: exit ${r.status}\n${(r.stdout + r.stderr).trim()}`);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout + r.stderr;
}

function findSweepFolders(root: string): string[] {
  const r = spawnSync('find', [root, '-name', SWEEP_FILE], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map((f) => resolve(f, '..'));
}

const readIndex = (dir: string) => JSON.parse(readFileSync(join(dir, SWEEP_FILE), 'utf8')) as SweepIndex;
const readResult = (dir: string, folder: string) => JSON.parse(readFileSync(join(dir, folder, 'result.json'), 'utf8')) as RunResult;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls the sweep's status until no run is pending or running, printing squeue whenever it changes. */
async function waitForSweep(dir: string, squeueSeen: string[]): Promise<SlurmRunStatus[]> {
  const deadline = Date.now() + RUN_TIMEOUT_MS;
  let lastQueue = '';
  let lastStates = '';
  for (;;) {
    const q = await execSlurm('squeue', ['-r', '-o', '%.10i %.9P %.24j %.8u %.10T %.8M %R']);
    const body = q.stdout.trim();
    if (body !== lastQueue) {
      lastQueue = body;
      if (body.split('\n').length > 1) {
        say(`squeue:\n${body}`);
        squeueSeen.push(body);
      }
    }
    const rows = await slurmSweepStatus(dir);
    const states = rows.map((r) => `${r.index}:${r.state}${r.slurmState ? `/${r.slurmState}` : ''}`).join(' ');
    if (states !== lastStates) {
      lastStates = states;
      say(`status: ${states}`);
    }
    if (rows.every((r) => r.state !== 'pending' && r.state !== 'running')) return rows;
    if (Date.now() > deadline) throw new Error(`the sweep did not finish in ${RUN_TIMEOUT_MS / 60_000} minutes: ${states}`);
    await sleep(1000);
  }
}

/**
 * The job completion log's lines of these array jobs, once it has `atLeast` of them: slurmctld
 * writes a line when a task has fully ended, a moment after its result.json says completed.
 */
async function jobCompLines(jobIds: string[], atLeast: number): Promise<string[]> {
  const conf = parseSlurmConfig((await execSlurm('scontrol', ['show', 'config'])).stdout);
  assert.ok(conf.JobCompLoc, 'the cluster has a job completion log (JobCompLoc)');
  const deadline = Date.now() + 60_000;
  for (;;) {
    const lines = existsSync(conf.JobCompLoc)
      ? readFileSync(conf.JobCompLoc, 'utf8')
          .split('\n')
          .filter((l) => parseJobCompLog(l).some((r) => jobIds.includes(r.arrayJobId)))
      : [];
    if (lines.length >= atLeast || Date.now() > deadline) return lines;
    await sleep(500);
  }
}

describe('sweeps on a real Slurm cluster', { timeout: 2 * RUN_TIMEOUT_MS + 120_000 }, () => {
  before(() => {
    checkReady();
    say(`cluster start:\n${cluster('start').trim()}`);
  });
  after(() => {
    try {
      say(`cluster stop:\n${cluster('stop').trim()}`);
    } finally {
      if (process.env.CLW_KEEP_E2E) say(`kept ${work}`);
      else rmSync(work, { recursive: true, force: true });
    }
  });

  test('2 strategies x 2 seeds as one job array: all complete, squeue shows them, R equals a local run bit for bit', async () => {
    const file = writeExperiment('Slurm sweep', { seeds: [0, 1], sweep: { 'strategy.name': ['naive', 'ewc'] } });
    const started = Date.now();
    const resultsDir = join(work, 'results');
    cliSubmit(file, resultsDir);
    const found = findSweepFolders(resultsDir);
    assert.equal(found.length, 1, `one sweep folder under ${resultsDir}: ${found.join(', ')}`);
    const dir = found[0];
    const index = readIndex(dir);
    assert.equal(index.runs.length, 4);
    assert.ok(index.executor.type === 'slurm');
    assert.equal(index.executor.submissions.length, 1);
    const sub = index.executor.submissions[0];
    assert.deepEqual(sub.arrayIndices, [0, 1, 2, 3]);
    assert.match(readFileSync(join(dir, sub.script), 'utf8'), /^#SBATCH --array=0-3$/m);

    const squeueSeen: string[] = [];
    const rows = await waitForSweep(dir, squeueSeen);
    say(`sweep finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    // The queue showed our array tasks while they ran (2 cores, 1 CPU each: two run, two wait).
    assert.ok(squeueSeen.some((s) => new RegExp(`^\\s*${sub.jobId}_\\d+\\s.*\\bRUNNING\\b`, 'm').test(s)), `squeue showed job ${sub.jobId}'s tasks running:\n${squeueSeen.join('\n---\n')}`);
    assert.deepEqual(
      rows.map((r) => r.state),
      ['completed', 'completed', 'completed', 'completed'],
      rows.map((r) => `${r.index} ${r.state} ${r.message ?? ''} ${r.log ?? ''}`).join('\n'),
    );
    const results = index.runs.map((r) => readResult(dir, r.folder));
    for (const [i, r] of results.entries()) {
      assert.equal(r.status, 'completed');
      assert.equal(r.experiment.strategy.name, index.runs[i].params['strategy.name']);
      assert.equal(r.experiment.seed, index.runs[i].seed);
      assert.equal(r.accuracyMatrix.length, 2);
      assert.ok(existsSync(join(dir, 'slurm', `${sub.jobId}_${i}.log`)), `log of array task ${i}`);
    }
    // Different strategies or seeds train differently.
    assert.notDeepEqual(results[0].accuracyMatrix, results[1].accuracyMatrix);
    const comp = await jobCompLines([sub.jobId], 4);
    say(`job completion log:\n${comp.join('\n')}`);
    assert.equal(comp.filter((l) => /JobState=COMPLETED/.test(l)).length, 4);

    // `compare` on the sweep folder: naive and EWC, each the mean of its two seeds, nothing unreadable.
    const cmp = spawnSync(process.execPath, [CLI, 'compare', dir, '--json', '--out', join(work, 'compare')], { encoding: 'utf8' });
    assert.equal(cmp.status, 0, cmp.stderr);
    const comparison = JSON.parse(cmp.stdout) as Comparison;
    assert.equal(comparison.runs.length, 4);
    assert.deepEqual(comparison.unreadable, []);
    assert.deepEqual(comparison.groups.map((g) => g.included.length), [2, 2]);
    const table = spawnSync(process.execPath, [CLI, 'compare', dir, '--out', join(work, 'compare')], { encoding: 'utf8' });
    say(`continual-workbench compare:\n${table.stdout.trim()}`);

    // The same run's experiment on this machine without Slurm: the same numbers, bit for bit.
    const run = index.runs[3];
    const localOut = join(work, 'local-run');
    const t = Date.now();
    const local = spawnSync(process.execPath, [CLI, 'run', join(dir, run.folder, SWEEP_RUN_EXPERIMENT), '--out', localOut, '--json'], { encoding: 'utf8' });
    assert.equal(local.status, 0, local.stderr);
    say(`local run of ${run.folder} took ${((Date.now() - t) / 1000).toFixed(1)} s`);
    const localResult = JSON.parse(readFileSync(join(localOut, 'result.json'), 'utf8')) as RunResult;
    assert.deepEqual(localResult.accuracyMatrix, results[3].accuracyMatrix);
    assert.deepEqual(localResult.lossMatrix, results[3].lossMatrix);
    say(`R of ${run.folder} on Slurm and locally: ${JSON.stringify(results[3].accuracyMatrix)}`);
  });

  test('a failing array task is failed with its log; a resubmit submits only the incomplete index', async () => {
    const file = writeExperiment('Slurm failing sweep', { seeds: [0, 1] });
    const dir = createSweep(file, join(work, 'results-failing'));
    const index = readIndex(dir);
    assert.equal(index.runs.length, 2);
    // Run 1's second task reads an IDX folder that does not exist.
    const broken = join(dir, index.runs[1].folder, SWEEP_RUN_EXPERIMENT);
    const good = readFileSync(broken, 'utf8');
    const spec = JSON.parse(good) as { tasks: Record<string, unknown>[] };
    const missing = join(work, 'no-such-idx-folder');
    spec.tasks[1] = { dataset: 'idx', path: missing, train: 500, test: 300, label: 'missing' };
    writeFileSync(broken, JSON.stringify(spec, null, 2));

    cliSubmit(file, dir);
    const first = readIndex(dir).executor;
    assert.ok(first.type === 'slurm');
    const job1 = first.submissions[0].jobId;
    const rows = await waitForSweep(dir, []);
    assert.equal(rows[0].state, 'completed');
    assert.equal(rows[1].state, 'failed', `run 1: ${rows[1].state} ${rows[1].message}`);
    assert.equal(rows[1].jobId, job1);
    assert.equal(rows[1].log, join(dir, 'slurm', `${job1}_1.log`));
    const log = readFileSync(rows[1].log!, 'utf8');
    say(`run 1 failed (${rows[1].message}); its log:\n${log.trim()}`);
    assert.ok(log.includes(missing), 'the log names the missing folder');
    assert.match(rows[1].slurmState ?? '', /FAILED/);
    const comp1 = await jobCompLines([job1], 2);
    say(`job completion log:\n${comp1.join('\n')}`);
    assert.ok(comp1.some((l) => /JobState=FAILED .*ArrayTaskId=1 .*ExitCode=1:0/.test(l)), 'the job completion log records array task 1 as FAILED with exit code 1');

    // Without resubmit, a second submission is refused; with it, only index 1 goes.
    assert.equal(await submitSweepToSlurm(dir, { cliPath: CLI, out: () => undefined, err: () => undefined }), 1);
    writeFileSync(broken, good);
    // The CLI on an existing sweep folder resubmits it.
    assert.match(cliSubmit(file, dir), /submitted 1 run\(s\) as Slurm job \d+ \(array 1\); skipped 0/);
    const second = readIndex(dir).executor;
    assert.ok(second.type === 'slurm');
    assert.equal(second.submissions.length, 2);
    const sub2 = second.submissions[1];
    assert.deepEqual(sub2.arrayIndices, [1]);
    assert.match(readFileSync(join(dir, sub2.script), 'utf8'), /^#SBATCH --array=1$/m);
    const after2 = await waitForSweep(dir, []);
    assert.deepEqual(after2.map((r) => [r.state, r.jobId]), [['completed', job1], ['completed', sub2.jobId]]);
    // The completed run 0 was not run again: only its first log exists.
    assert.ok(!existsSync(join(dir, 'slurm', `${sub2.jobId}_0.log`)));
    const comp2 = await jobCompLines([sub2.jobId], 1);
    say(`job completion log:\n${comp2.join('\n')}`);
    assert.equal(comp2.length, 1);
    assert.match(comp2[0], /JobState=COMPLETED .*ArrayTaskId=1 /);
  });
});
