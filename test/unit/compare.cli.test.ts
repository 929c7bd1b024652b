// `continual-workbench compare` on real tiny results (test/fixtures/compare): the table, the files
// it writes and its exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareCommand, formatMeanSemCell } from '../../src/cli/compare';
import { loadComparison } from '../../src/engine/compare/load';
import type { Comparison } from '../../src/protocol/compare';
import type { RunResult } from '../../src/protocol/result';

const FIXTURES = join(__dirname, '..', 'fixtures', 'compare');
const DIST = join(__dirname, '..', '..', 'dist');
const built = existsSync(join(DIST, 'webview.js')) && existsSync(join(DIST, 'webview.css'));

function capture() {
  const out = { stdout: '', stderr: '' };
  return { out, output: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t) } };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'clw-compare-cli-'));
}

test('one sweep folder: the table with mean ± SEM, and compare.html/.csv/.json written into the sweep folder', async () => {
  const dir = tempDir();
  try {
    const sweep = join(dir, 'sweep');
    cpSync(join(FIXTURES, 'sweep'), sweep, { recursive: true });
    const { out, output } = capture();
    const code = await compareCommand([sweep], { output });
    assert.equal(code, 0, out.stderr);
    const expected = loadComparison([sweep]);
    const g = expected.groups[1];
    // "52.4 ± 1.9": the group's mean and SEM in percent, one decimal, in the group's row.
    const cell = formatMeanSemCell(g.metrics.acc, 'acc');
    assert.match(cell, /^\d+\.\d ± \d+\.\d$/);
    const row = out.stdout.split('\n').find((l) => l.startsWith('EWC λ=1000 '));
    assert.ok(row, out.stdout);
    assert.ok(row.includes(`2/2  ${cell}`), row);
    assert.match(out.stdout, /^ewc lambda sweep: 4 runs in 2 groups/);
    assert.match(out.stdout, /EWC λ=10: accuracy matrix/);
    assert.match(out.stdout, /ACC against strategy\.lambda \(log axis\):\n  EWC: 10 → .* ± .*, 1000 → /);
    assert.match(out.stdout, /Warnings:\n  ewc lambda sweep: 2 pending \(no result yet\) of 6 runs/);
    for (const r of expected.runs) assert.ok(out.stdout.includes(r.id), r.id);
    const files = readdirSync(sweep).sort();
    assert.deepEqual(files, [...(built ? ['compare.html'] : []), 'compare.csv', 'compare.json', 'runs', 'sweep.json'].sort());
    const json = JSON.parse(readFileSync(join(sweep, 'compare.json'), 'utf8')) as Comparison;
    assert.deepEqual({ ...json, createdAt: '' }, JSON.parse(JSON.stringify({ ...expected, createdAt: '' })));
    const csv = readFileSync(join(sweep, 'compare.csv'), 'utf8').split('\r\n');
    assert.equal(csv.length, 1 + 2 + 4 + 1, 'header, 2 groups, 4 runs, final line end');
    if (built) {
      const html = readFileSync(join(sweep, 'compare.html'), 'utf8');
      assert.match(html, /<script type="application\/json" id="clw-comparison">/);
    }
    assert.match(out.stderr, new RegExp(`wrote compare\\.json, compare\\.csv.* in ${sweep.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failed seed is listed with its reason and left out; one seed shows no ±; unreadable paths give exit code 1', async () => {
  const dir = tempDir();
  try {
    for (const seed of [0, 1]) cpSync(join(FIXTURES, 'runs', `naive-seed-${seed}`), join(dir, `naive-seed-${seed}`), { recursive: true });
    // A third seed that failed (its numbers are there, partial; they must not count).
    const failed = JSON.parse(readFileSync(join(dir, 'naive-seed-1', 'result.json'), 'utf8')) as RunResult;
    failed.experiment.seed = 2;
    failed.status = 'failed';
    failed.error = { phase: 'train', message: 'out of memory' };
    failed.metrics.acc = 0;
    cpSync(join(dir, 'naive-seed-1'), join(dir, 'naive-seed-2'), { recursive: true });
    writeFileSync(join(dir, 'naive-seed-2', 'result.json'), JSON.stringify(failed));
    cpSync(join(FIXTURES, 'sweep', 'runs', '003-lambda-1000-seed-0'), join(dir, 'ewc-one-seed'), { recursive: true });
    const outDir = join(dir, 'out');
    const { out, output } = capture();
    const paths = ['naive-seed-0', 'naive-seed-1', 'naive-seed-2', 'ewc-one-seed', 'missing'].map((p) => join(dir, p));
    const code = await compareCommand(paths, { out: outDir, output });
    assert.equal(code, 1, 'a path could not be read');
    const c = loadComparison(paths);
    const naive = c.groups.find((g) => g.label === 'Naive')!;
    assert.equal(naive.metrics.acc.n, 2);
    assert.equal(naive.metrics.acc.missing, 1);
    const lines = out.stdout.split('\n');
    const naiveRow = lines.find((l) => l.startsWith('Naive '))!;
    assert.ok(naiveRow.includes(`2/3  ${formatMeanSemCell(naive.metrics.acc, 'acc')}`), naiveRow);
    const ewcRow = lines.find((l) => l.startsWith('EWC λ=1000 '))!;
    assert.ok(ewcRow.includes('1/1'), ewcRow);
    assert.doesNotMatch(ewcRow, /±/, 'one seed: no error bar');
    assert.match(out.stdout, /Excluded from the means \(listed, not averaged in\):\n  naive-seed-2 \(Naive · seed 2\): failed \(train\): out of memory/);
    assert.match(out.stdout, /Could not be read:\n  .*missing: no such file or folder/);
    assert.ok(existsSync(join(outDir, 'compare.csv')));
    // --json: the Comparison on stdout instead of the table.
    const j = capture();
    assert.equal(await compareCommand(paths.slice(0, 3), { out: outDir, json: true, output: j.output }), 0);
    const printed = JSON.parse(j.out.stdout) as Comparison;
    assert.equal(printed.runs.length, 3);
    assert.equal(printed.runs[2].excluded, 'failed (train): out of memory');
    // --csv: the CSV on stdout.
    const k = capture();
    assert.equal(await compareCommand(paths.slice(0, 3), { out: outDir, csv: true, output: k.output }), 0);
    assert.match(k.out.stdout, /^kind,group,label,id,seed,status,excluded,/);
    assert.equal(k.out.stdout, readFileSync(join(outDir, 'compare.csv'), 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('nothing readable: exit code 2, reasons on stderr, nothing written', async () => {
  const dir = tempDir();
  try {
    const { out, output } = capture();
    const outDir = join(dir, 'out');
    assert.equal(await compareCommand([join(dir, 'nope'), dir], { out: outDir, output }), 2);
    assert.match(out.stderr, /nope: no such file or folder/);
    assert.match(out.stderr, /neither a run folder/);
    assert.match(out.stderr, /error: nothing to compare/);
    assert.equal(out.stdout, '');
    assert.equal(existsSync(outDir), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('several runs without --out: a compare-<timestamp> folder in the working directory', async () => {
  const dir = tempDir();
  const cwd = process.cwd();
  try {
    process.chdir(dir);
    const { output } = capture();
    assert.equal(await compareCommand([join(FIXTURES, 'runs', 'naive-seed-0'), join(FIXTURES, 'runs', 'naive-seed-1')], { output }), 0);
    const made = readdirSync(dir);
    assert.equal(made.length, 1);
    assert.match(made[0], /^compare-\d{8}-\d{6}$/);
    assert.ok(existsSync(join(dir, made[0], 'compare.json')));
  } finally {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  }
});
