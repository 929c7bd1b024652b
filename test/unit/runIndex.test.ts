// The Runs view's index (src/extension/runIndex.ts): run folders in temp results dirs, each
// result.json classified (completed, cancelled, failed with its error, truncated, missing, newer
// format, running with and without a live trainer), newest first, the words and tooltip shown;
// sweep folders (made by engine/sweep/folder.ts) as one node with their runs, live and Slurm states.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { RunResult } from '../../src/protocol/result';
import { expandExperiment } from '../../src/engine/config/sweep';
import { createSweepFolder } from '../../src/engine/sweep/folder';
import { applyRunEvent, type RunState } from '../../src/protocol/runState';
import {
  NO_RESULT_FILE,
  RunIndex,
  accuracyMatrixMarkdown,
  classifyResultText,
  describeEntry,
  escapeMarkdown,
  folderTimestamp,
  headlineText,
  statusText,
  tooltipMarkdown,
  withLiveRuns,
  allRuns,
  describeSweep,
  parseSweepIndex,
  sweepCounts,
  sweepRunLabel,
  sweepRunState,
  sweepStatus,
  sweepTooltipMarkdown,
  withClusterStates,
  clusterTaskStates,
  type ClusterTaskState,
  type SweepEntry,
  type IndexNode,
  type LiveRunInfo,
  type RunEntry,
} from '../../src/extension/runIndex';

const SAMPLE = readFileSync(resolve(__dirname, '..', 'fixtures', 'sample-result.json'), 'utf8');
const root = mkdtempSync(join(tmpdir(), 'clw-runindex-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** The sample result (format 1, MNIST then Fashion-MNIST, naive) with changes. */
function sample(change: (r: RunResult) => void = () => undefined): RunResult {
  const r = JSON.parse(SAMPLE) as RunResult;
  change(r);
  return r;
}

let dirCount = 0;
function resultsDir(): string {
  const d = join(root, `results-${++dirCount}`);
  mkdirSync(d, { recursive: true });
  return d;
}

function runFolder(results: string, name: string, content?: string | RunResult): string {
  const dir = join(results, name);
  mkdirSync(dir, { recursive: true });
  if (content !== undefined) writeFileSync(join(dir, 'result.json'), typeof content === 'string' ? content : JSON.stringify(content));
  return dir;
}

const byFolder = (entries: IndexNode[], folder: string): RunEntry => {
  const e = allRuns(entries).find((x) => x.folderName === folder);
  assert.ok(e, `no entry for ${folder} in ${entries.map((x) => x.folderName).join(', ')}`);
  return e;
};

describe('run index: classifying run folders', () => {
  test('completed, cancelled, failed (with its error), truncated, missing, newer format and running folders are all listed', async () => {
    const results = resultsDir();
    runFolder(results, '20251127-140211-completed', sample((r) => (r.timing.startedAt = '2025-11-27T14:02:11.000Z')));
    runFolder(
      results,
      '20251127-150000-cancelled',
      sample((r) => {
        r.status = 'cancelled';
        r.accuracyMatrix = [r.accuracyMatrix[0]];
        r.metrics = { ...r.metrics, acc: 0.989, bwt: null, fwt: null, forgetting: null };
        r.timing.startedAt = '2025-11-27T15:00:00.000Z';
      }),
    );
    runFolder(
      results,
      '20251127-160000-failed',
      sample((r) => {
        r.status = 'failed';
        r.error = { phase: 'data', message: 'cannot read /data/mnist/train-images-idx3-ubyte: ENOENT' };
        r.accuracyMatrix = [];
        r.metrics = { ...r.metrics, acc: null, bwt: null };
        r.timing.startedAt = '2025-11-27T16:00:00.000Z';
      }),
    );
    runFolder(results, '20251127-170000-truncated', SAMPLE.slice(0, Math.floor(SAMPLE.length / 2)));
    runFolder(results, '20251127-180000-missing');
    runFolder(results, '20251127-190000-newer', sample((r) => (r.formatVersion = 99)));
    runFolder(
      results,
      '20251127-200000-running',
      sample((r) => {
        r.status = 'running';
        r.timing.startedAt = '2025-11-27T20:00:00.000Z';
      }),
    );

    const entries = await new RunIndex().scan([results]);
    assert.equal(entries.length, 7, 'every run folder is listed, none hidden');

    const completed = byFolder(entries, '20251127-140211-completed');
    assert.equal(completed.status, 'completed');
    assert.equal(completed.name, 'MNIST then Fashion-MNIST');
    assert.equal(completed.result?.formatVersion, 2, 'the format-1 result is read as the current format');
    assert.equal(headlineText(completed.result), 'ACC 57.4% · BWT -74.5');

    const cancelled = byFolder(entries, '20251127-150000-cancelled');
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(headlineText(cancelled.result), 'ACC 98.9%', 'no BWT after one row');

    const failed = byFolder(entries, '20251127-160000-failed');
    assert.equal(failed.status, 'failed');
    assert.deepEqual(failed.error, { phase: 'data', message: 'cannot read /data/mnist/train-images-idx3-ubyte: ENOENT' });
    assert.match(describeEntry(failed), /^failed: cannot read \/data\/mnist\/train-images-idx3-ubyte: ENOENT · Naive · domain-IL/);

    const truncated = byFolder(entries, '20251127-170000-truncated');
    assert.equal(truncated.status, 'incomplete');
    assert.equal(truncated.result, null);
    assert.match(truncated.problem ?? '', /not valid JSON/);
    assert.equal(truncated.name, '20251127-170000-truncated', 'no result: the folder names the run');
    assert.match(describeEntry(truncated), /^no result \(incomplete\)/);

    const missing = byFolder(entries, '20251127-180000-missing');
    assert.equal(missing.status, 'incomplete');
    assert.equal(missing.problem, NO_RESULT_FILE);

    const newer = byFolder(entries, '20251127-190000-newer');
    assert.equal(newer.status, 'unreadable');
    assert.match(newer.problem ?? '', /format version 99/);

    const running = byFolder(entries, '20251127-200000-running');
    assert.equal(running.status, 'running', 'the index reports what the file says; live runs are merged separately');
  });

  test('never throws on a bad file: JSON that is not a result, broken fields, a directory named result.json, an unreadable file', async () => {
    const results = resultsDir();
    runFolder(results, 'array', '[]');
    runFolder(results, 'status-only', '{"status": "completed"}');
    runFolder(results, 'null-task', JSON.stringify({ ...JSON.parse(SAMPLE), tasks: [null] }));
    runFolder(results, 'empty', '');
    runFolder(results, 'bom-garbage', '\ufeff\u0000\u0001');
    mkdirSync(join(results, 'dir-result', 'result.json'), { recursive: true });
    const locked = runFolder(results, 'locked', JSON.stringify(sample()));
    if (process.getuid?.() !== 0) {
      // chmod 000 does not stop root; then this case is the completed run it is.
      const { chmodSync } = await import('node:fs');
      chmodSync(join(locked, 'result.json'), 0o000);
    }
    const entries = await new RunIndex().scan([results]);
    assert.equal(entries.length, 7);
    for (const e of allRuns(entries)) {
      assert.ok(['unreadable', 'incomplete', 'completed'].includes(e.status), `${e.folderName}: ${e.status}`);
      assert.equal(typeof describeEntry(e), 'string');
      assert.equal(typeof tooltipMarkdown(e), 'string');
    }
    assert.equal(byFolder(entries, 'array').status, 'unreadable');
    assert.match(byFolder(entries, 'status-only').problem ?? '', /not a Continual Workbench result/);
    assert.equal(byFolder(entries, 'empty').problem, 'result.json is empty');
    assert.equal(byFolder(entries, 'bom-garbage').status, 'incomplete');
    assert.equal(byFolder(entries, 'dir-result').status, 'incomplete');
    if (process.getuid?.() !== 0) assert.match(byFolder(entries, 'locked').problem ?? '', /cannot be read/);
  });

  test('classifyResultText: a missing file, an empty one, a torn one', () => {
    assert.deepEqual(classifyResultText(null), { status: 'incomplete', result: null, problem: NO_RESULT_FILE });
    assert.equal(classifyResultText('   ').status, 'incomplete');
    assert.equal(classifyResultText('{"formatVersion": 2, "runId": "x", "stat').status, 'incomplete');
    const failedWithoutError = classifyResultText(JSON.stringify(sample((r) => (r.status = 'failed'))));
    assert.equal(failedWithoutError.status, 'failed');
    assert.match(failedWithoutError.error?.message ?? '', /without an error message/);
  });

  test('hidden entries and plain files are not runs; a missing results dir is empty', async () => {
    const results = resultsDir();
    runFolder(results, '.tmp-123', sample());
    writeFileSync(join(results, '.result.json.1.2.tmp'), '{');
    writeFileSync(join(results, 'notes.txt'), 'hello');
    runFolder(results, '20251127-140211-a', sample());
    const entries = await new RunIndex().scan([results, join(root, 'does-not-exist')]);
    assert.deepEqual(entries.map((e) => e.folderName), ['20251127-140211-a']);
  });

  test('a changed result.json is read again (a run that ends); a deleted folder leaves the list', async () => {
    const results = resultsDir();
    const dir = runFolder(results, '20251127-140211-a', sample((r) => (r.status = 'running')));
    runFolder(results, '20251127-140212-b', sample());
    const index = new RunIndex();
    assert.equal(byFolder(await index.scan([results]), '20251127-140211-a').status, 'running');
    writeFileSync(join(dir, 'result.json'), JSON.stringify(sample((r) => (r.status = 'cancelled'))));
    assert.equal(byFolder(await index.scan([results]), '20251127-140211-a').status, 'cancelled');
    rmSync(dir, { recursive: true });
    assert.deepEqual((await index.scan([results])).map((e) => e.folderName), ['20251127-140212-b']);
  });
});

describe('run index: order and live runs', () => {
  test('newest first across results dirs: the result\'s start time, else the folder\'s timestamp', async () => {
    const a = resultsDir();
    const b = resultsDir();
    runFolder(a, '20240101-000000-old', sample((r) => (r.timing.startedAt = new Date(2024, 0, 1).toISOString())));
    runFolder(b, '20260101-120000-new', sample((r) => (r.timing.startedAt = new Date(2026, 0, 1, 12).toISOString())));
    // No result: its folder name's local time (2025) puts it between the two.
    runFolder(a, '20250601-083000-torn', '{"form');
    // The result's own time wins over a misleading folder name.
    runFolder(b, '20990101-000000-renamed', sample((r) => (r.timing.startedAt = new Date(2023, 0, 1).toISOString())));
    const entries = await new RunIndex().scan([a, b, a]);
    assert.deepEqual(
      entries.map((e) => e.folderName),
      ['20260101-120000-new', '20250601-083000-torn', '20240101-000000-old', '20990101-000000-renamed'],
    );
    assert.equal(folderTimestamp('20250601-083000-torn'), new Date(2025, 5, 1, 8, 30, 0).getTime());
    assert.equal(folderTimestamp('my-run'), null);
  });

  test('a "running" result whose run.lock a live process holds runs elsewhere; a dead holder\'s is stale', async () => {
    const results = resultsDir();
    const held = runFolder(results, '20251127-140000-held', sample((r) => (r.status = 'running')));
    writeFileSync(join(held, 'run.lock'), JSON.stringify({ pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString() }));
    const dead = runFolder(results, '20251127-140001-dead', sample((r) => (r.status = 'running')));
    // A pid past the kernel's pid_max is never alive.
    writeFileSync(join(dead, 'run.lock'), JSON.stringify({ pid: 2 ** 22 + 1, hostname: hostname(), startedAt: new Date().toISOString() }));
    const remote = runFolder(results, '20251127-140002-remote', sample((r) => (r.status = 'running')));
    writeFileSync(join(remote, 'run.lock'), JSON.stringify({ pid: 1, hostname: `not-${hostname()}`, startedAt: new Date().toISOString() }));
    const merged = withLiveRuns(await new RunIndex().scan([results]), []);
    const heldEntry = byFolder(merged, '20251127-140000-held');
    assert.equal(heldEntry.status, 'running');
    assert.deepEqual(heldEntry.elsewhere, { pid: process.pid, hostname: hostname() });
    assert.equal(statusText(heldEntry), 'running elsewhere');
    assert.match(tooltipMarkdown(heldEntry), new RegExp(`Written by process ${process.pid}`));
    assert.equal(byFolder(merged, '20251127-140001-dead').status, 'stale');
    assert.equal(byFolder(merged, '20251127-140002-remote').status, 'running', 'a lock from another machine cannot be checked: it holds');
  });

  test('a live run shows the host\'s state; a "running" file without a trainer is stale; a queued run without a result is listed', async () => {
    const results = resultsDir();
    const liveDir = runFolder(results, '20251127-140211-live', sample((r) => (r.status = 'running')));
    runFolder(results, '20251127-130000-orphan', sample((r) => (r.status = 'running')));
    const queuedDir = join(results, '20251127-140300-queued'); // not created: the scan does not see it
    const experiment = sample().experiment;
    let state: RunState = applyRunEvent(null, { type: 'runStarted', runId: 'r1', experiment, startedAt: new Date(2025, 10, 27, 14, 2, 11).toISOString() });
    state = applyRunEvent(state, { type: 'taskFinished', task: 0, accuracy: [0.95, 0.1], loss: [0.1, 3] } as never);
    const live: LiveRunInfo[] = [
      { id: 'r1', runDir: liveDir, phase: 'running', cancelRequested: false, experiment, experimentFile: '/w/x.cl.json', state, createdAt: Date.now() },
      { id: 'r2', runDir: queuedDir, phase: 'queued', cancelRequested: false, experiment: { ...experiment, name: 'Queued one' }, experimentFile: '/w/y.cl.json', state: null, createdAt: Date.now() },
    ];
    const merged = withLiveRuns(await new RunIndex().scan([results]), live);
    assert.equal(merged.length, 3);
    const running = byFolder(merged, '20251127-140211-live');
    assert.equal(running.status, 'running');
    assert.equal(running.live?.id, 'r1');
    assert.deepEqual(running.result?.accuracyMatrix, [[0.95, 0.1]], 'the host\'s fold, not the file');
    assert.match(statusText(running), /^running \d+%$/);
    const orphan = byFolder(merged, '20251127-130000-orphan');
    assert.equal(orphan.status, 'stale');
    assert.equal(orphan.live, undefined);
    assert.match(tooltipMarkdown(orphan), /no process writes it any more/);
    const queued = byFolder(merged, '20251127-140300-queued');
    assert.equal(queued.status, 'queued');
    assert.equal(queued.name, 'Queued one');
    assert.equal(merged[0].folderName, '20251127-140300-queued', 'newest first: the queued run started last');
    live[0].cancelRequested = true;
    assert.equal(statusText(byFolder(withLiveRuns(await new RunIndex().scan([results]), live), '20251127-140211-live')), 'cancelling…');
  });
});

describe('run index: what the view shows', () => {
  test('description: status, ACC and BWT, strategy, scenario, start time', () => {
    const r = sample((x) => (x.timing.startedAt = new Date(2025, 10, 27, 14, 2, 11).toISOString()));
    const e: RunEntry = { kind: 'run', dir: '/w/r', folderName: 'r', resultFile: '/w/r/result.json', status: 'completed', result: sample(), name: 'x', startedAt: Date.parse(r.timing.startedAt) };
    assert.equal(describeEntry(e, new Date(2025, 11, 1)), 'completed · ACC 57.4% · BWT -74.5 · Naive · domain-IL · 27 Nov 14:02');
    assert.equal(describeEntry(e, new Date(2026, 0, 1)), 'completed · ACC 57.4% · BWT -74.5 · Naive · domain-IL · 27 Nov 2025 14:02');
  });

  test('tooltip: R as a table, the metrics, the error, the notes; text from files cannot inject markdown', () => {
    const r = sample((x) => {
      x.experiment.name = 'My *bold* <img src=x> [link](command:rm)';
      x.status = 'failed';
      x.error = { phase: 'train', message: 'NaN loss at step 12 | **stop**' };
      x.notes = [{ message: 'tasks[0].train: 70000 > 60000, cut to 60000', field: 'tasks[0].train' }];
    });
    const e: RunEntry = { kind: 'run', dir: '/w/r', folderName: 'r', resultFile: '/w/r/result.json', status: 'failed', result: r, error: r.error, name: r.experiment.name, startedAt: null };
    const md = tooltipMarkdown(e, '.continual/runs/r');
    assert.ok(md.includes('| after MNIST | 98.9 | 8.1 |'), md);
    assert.ok(md.includes('| after Fashion-MNIST | 24.4 | 90.3 |'), md);
    assert.ok(md.includes('ACC 57.4% · BWT -74.5 pts · FWT -1.9 pts · Forgetting 74.5 pts'), md);
    assert.ok(md.includes('**Error** (train): NaN loss at step 12 \\| \\*\\*stop\\*\\*'), md);
    assert.ok(md.includes('- tasks\\[0\\].train: 70000 \\> 60000, cut to 60000 (`tasks[0].train`)'), md);
    assert.ok(md.startsWith('**My \\*bold\\* \\<img src=x\\> \\[link\\]\\(command:rm\\)** — failed'), md);
    assert.ok(md.includes('`.continual/runs/r`'));
    assert.ok(!/(^|[^\\])<img/.test(md) && !md.includes('](command:'), 'name escaped');
    assert.equal(escapeMarkdown('a_b*c'), 'a\\_b\\*c');
  });

  test('the accuracy matrix table has a row per row of R that arrived', () => {
    const r = sample((x) => (x.accuracyMatrix = [x.accuracyMatrix[0]]));
    const lines = accuracyMatrixMarkdown(r).split('\n');
    assert.equal(lines.length, 3, 'header, separator, one row');
    assert.equal(accuracyMatrixMarkdown(sample((x) => (x.accuracyMatrix = []))), '');
  });
});

describe('run index: sweeps', () => {
  /** A real sweep folder (engine/sweep/folder.ts) of `seeds` × `strategy.lambda`, results written into some runs. */
  function sweepFolder(results: string, results_: Record<number, RunResult | string>, now = new Date(2025, 10, 28, 9, 0, 0)) {
    const file = join(root, 'ewc.cl.json');
    writeFileSync(file, '{}');
    const spec = { name: 'EWC lambda', tasks: [{ dataset: 'mnist' }, { dataset: 'fashion-mnist' }], strategy: { name: 'ewc', lambda: 100 }, sweep: { 'strategy.lambda': [100, 1000] }, seeds: [0, 1] } as never;
    const { dir, index } = createSweepFolder(results, 'EWC lambda', file, expandExperiment(spec), { type: 'local', parallel: 2 }, now);
    for (const [i, content] of Object.entries(results_)) {
      writeFileSync(join(dir, index.runs[Number(i)].folder, 'result.json'), typeof content === 'string' ? content : JSON.stringify(content));
    }
    return { dir, index };
  }

  test('a sweep folder is one node: its runs as children in the sweep\'s order, labelled by their values, counted by state', async () => {
    const results = resultsDir();
    runFolder(results, '20251127-140211-single', sample());
    const failed = sample((r) => {
      r.status = 'failed';
      r.error = { phase: 'train', message: 'NaN loss' };
    });
    const { dir, index } = sweepFolder(results, { 0: sample(), 1: sample(), 2: failed });
    const nodes = await new RunIndex().scan([results]);
    assert.equal(nodes.length, 2, 'one run, one sweep: the sweep\'s runs are not listed on their own');
    const sweep = nodes[0];
    assert.equal(sweep.kind, 'sweep', 'newest first: the sweep was created after the run');
    assert.ok(sweep.kind === 'sweep');
    assert.equal(sweep.name, 'EWC lambda');
    assert.equal(sweep.dir, dir);
    assert.deepEqual(
      sweep.runs.map((r) => [r.name, r.status, r.sweep?.index]),
      [
        ['strategy.lambda=100 · seed 0', 'completed', 0],
        ['strategy.lambda=100 · seed 1', 'completed', 1],
        ['strategy.lambda=1000 · seed 0', 'failed', 2],
        ['strategy.lambda=1000 · seed 1', 'incomplete', 3],
      ],
    );
    assert.deepEqual(sweep.runs.map((r) => r.dir), index.runs.map((r) => join(dir, r.folder)));
    assert.deepEqual(sweep.runs.map(sweepRunState), ['completed', 'completed', 'failed', 'missing']);
    const c = sweepCounts(sweep);
    assert.deepEqual([c.total, c.completed, c.failed, c.missing, c.running], [4, 2, 1, 1, 0]);
    assert.equal(describeSweep(sweep, new Date(2025, 11, 1)), 'sweep · 2/4 completed · 1 failed · 1 not started · 28 Nov 09:00');
    assert.equal(sweepStatus(sweep), 'failed');
    assert.equal(statusText(sweep.runs[3]), 'not started', 'a run of a sweep without a result has not started');
    const md = sweepTooltipMarkdown(sweep, '.continual/runs/x');
    assert.ok(md.includes('- `strategy.lambda`: 100, 1000') && md.includes('- `seed`: 0, 1'), md);
    assert.ok(md.includes('- strategy.lambda=1000 · seed 0: NaN loss'), md);
    assert.deepEqual(allRuns(nodes).length, 5);

    // Every run completes: the sweep says so, and its icon's status is completed.
    for (const r of index.runs) writeFileSync(join(dir, r.folder, 'result.json'), JSON.stringify(sample()));
    const done = (await new RunIndex().scan([results]))[0];
    assert.ok(done.kind === 'sweep');
    assert.equal(describeSweep(done, new Date(2025, 11, 1)), 'sweep · 4/4 completed · 28 Nov 09:00');
    assert.equal(sweepStatus(done), 'completed');
  });

  test('live runs of a sweep stay under the sweep, with the host\'s state; the sweep counts them running and queued', async () => {
    const results = resultsDir();
    const { dir, index } = sweepFolder(results, { 0: sample() });
    const experiment = sample().experiment;
    const state = applyRunEvent(null, { type: 'runStarted', runId: 'r1', experiment, startedAt: new Date().toISOString() });
    const live: LiveRunInfo[] = [
      { id: 'r1', runDir: join(dir, index.runs[1].folder), phase: 'running', cancelRequested: false, experiment, experimentFile: '/w/e.cl.json', state, createdAt: Date.now() },
      { id: 'r2', runDir: join(dir, index.runs[2].folder), phase: 'queued', cancelRequested: false, experiment, experimentFile: '/w/e.cl.json', state: null, createdAt: Date.now() },
      // Not in the index (yet): not a run of its own either.
      { id: 'r3', runDir: join(dir, 'runs', '099-extra'), phase: 'queued', cancelRequested: false, experiment, experimentFile: '/w/e.cl.json', state: null, createdAt: Date.now() },
    ];
    const merged = withLiveRuns(await new RunIndex().scan([results]), live);
    assert.equal(merged.length, 1, 'only the sweep at the top');
    const sweep = merged[0];
    assert.ok(sweep.kind === 'sweep');
    assert.deepEqual(sweep.runs.map((r) => [r.status, r.live?.id]), [['completed', undefined], ['running', 'r1'], ['queued', 'r2'], ['incomplete', undefined]]);
    assert.equal(sweep.runs[1].name, 'strategy.lambda=100 · seed 1', 'a live run keeps its label in the sweep');
    assert.match(describeSweep(sweep), /^sweep · 1\/4 completed · 1 running · 1 pending · 1 not started/);
    assert.equal(sweepStatus(sweep), 'running');
  });

  test('Slurm: array tasks without a result show the cluster\'s state; a result on disk wins', async () => {
    const results = resultsDir();
    const { index } = sweepFolder(results, { 0: sample() });
    const sweep = (await new RunIndex().scan([results]))[0];
    assert.ok(sweep.kind === 'sweep');
    const states = new Map<number, ClusterTaskState>([
      [0, { state: 'failed', detail: 'stale' }],
      [1, { state: 'pending', detail: '17_1 PENDING: pending (Resources)' }],
      [2, { state: 'running', detail: '17_2 RUNNING' }],
      [3, { state: 'failed', detail: '17_3 FAILED: the array task ended FAILED (exit code 1:0)', log: '/s/slurm/17_3.log' }],
    ]);
    const withCluster = withClusterStates(sweep, states);
    assert.equal(withCluster.runs[0].cluster, undefined, 'completed on disk: the cluster is not asked');
    assert.deepEqual(withCluster.runs.map(sweepRunState), ['completed', 'pending', 'running', 'failed']);
    assert.equal(statusText(withCluster.runs[1]), 'pending (Slurm)');
    assert.match(describeEntry(withCluster.runs[3]), /^failed \(Slurm\): 17_3 FAILED: the array task ended FAILED/);
    assert.match(tooltipMarkdown(withCluster.runs[3]), /Log: `\/s\/slurm\/17_3\.log`/);
    assert.match(describeSweep(withCluster), /^sweep · 1\/4 completed · 1 failed · 1 running · 1 pending/);
    assert.match(sweepTooltipMarkdown(withCluster), /17\\_3 FAILED.*\(log `\/s\/slurm\/17_3\.log`\)/, "markdown-escaped detail, the log path as code");
    assert.equal(index.runs.length, 4);

    // From cli/slurm.ts's rows: never submitted is left out; Slurm lost track: failed, with why.
    const fromRows = clusterTaskStates([
      { index: 0, state: 'completed', jobId: '17' },
      { index: 1, state: 'pending', jobId: '17', slurmState: 'PENDING', message: 'pending (Resources)' },
      { index: 2, state: 'missing', message: 'not submitted to Slurm yet' },
      { index: 3, state: 'missing', jobId: '17', message: 'Slurm no longer lists the array task and it left no log' },
      { index: 4, state: 'failed', jobId: '18', slurmState: 'FAILED', log: '/s/slurm/18_4.log', message: 'the array task ended FAILED (exit code 1:0)' },
    ]);
    assert.deepEqual([...fromRows.keys()], [0, 1, 3, 4]);
    assert.deepEqual(fromRows.get(1), { state: 'pending', detail: '17_1 PENDING: pending (Resources)' });
    assert.deepEqual(fromRows.get(3), { state: 'failed', detail: '17_3: Slurm no longer lists the array task and it left no log' });
    assert.deepEqual(fromRows.get(4), { state: 'failed', detail: '18_4 FAILED: the array task ended FAILED (exit code 1:0)', log: '/s/slurm/18_4.log' });
  });

  test('a broken sweep.json is one node that says why; an index never points outside its folder', async () => {
    const results = resultsDir();
    const broken = join(results, '20251128-100000-broken-sweep');
    mkdirSync(broken);
    writeFileSync(join(broken, 'sweep.json'), '{"kind": "sweep", "formatVersion": 1, "runs": [');
    const escaping = join(results, '20251128-110000-escaping-sweep');
    mkdirSync(escaping);
    writeFileSync(join(escaping, 'sweep.json'), JSON.stringify({ kind: 'sweep', formatVersion: 1, name: 'x', runs: [{ index: 0, folder: '../20251127-elsewhere', params: {}, seed: 0 }] }));
    const nodes = await new RunIndex().scan([results]);
    assert.equal(nodes.length, 2);
    for (const n of nodes) {
      assert.ok(n.kind === 'sweep');
      assert.equal(n.index, null);
      assert.deepEqual(n.runs, []);
      assert.equal(sweepStatus(n), 'unreadable');
    }
    assert.match(describeSweep(nodes.find((n) => n.dir === broken) as SweepEntry), /^sweep · sweep\.json is not valid JSON/);
    assert.match((nodes.find((n) => n.dir === escaping) as SweepEntry).problem ?? '', /is outside the sweep folder/);
    assert.equal(parseSweepIndex(JSON.stringify({ kind: 'sweep', formatVersion: 99, runs: [] })).ok, false);
    assert.equal(parseSweepIndex('[]').ok, false);
    assert.equal(sweepRunLabel({}, 3), 'run 3');
    assert.equal(sweepRunLabel({ 'model.hidden': [64, 32], seed: 1 }, 0), 'model.hidden=[64,32] · seed 1');
  });
});
