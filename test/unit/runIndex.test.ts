// The Runs view's index (src/extension/runIndex.ts): run folders in temp results dirs, each
// result.json classified (completed, cancelled, failed with its error, truncated, missing, newer
// format, running with and without a live trainer), newest first, the words and tooltip shown.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { RunResult } from '../../src/protocol/result';
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

const byFolder = (entries: RunEntry[], folder: string) => {
  const e = entries.find((x) => x.folderName === folder);
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
    for (const e of entries) {
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
