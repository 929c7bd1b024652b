// End-to-end: Compare and sweeps in a real VS Code (code-server + Chromium). Two tiny runs that
// differ only in their seed, multi-selected in the Runs view (ctrl-click) and compared: every cell
// of the compare panel's R matrices is checked against the two result.json files, as one group
// (mean ± SEM over the two seeds) and as two runs. A file with "seeds": [0, 1] run from VS Code
// becomes one sweep node with its 2 runs completed. Screenshots in test-artifacts/e2e/.
// Run: npm run build && node --import tsx --test test/e2e/compare.test.ts
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { FrameLocator } from 'playwright-core';
import type { RunResult } from '../../src/protocol/result';
import type { SweepIndex } from '../../src/protocol/sweep';
import { formatPercent } from '../../src/protocol/format';
import { meanSem } from '../../src/engine/metrics/aggregate';
import { Workbench, readResult, runDirs, runsDir, sleep, waitFor, workbenchSuite } from './harness';
import { rowAction, rowStates, runRow, runsPane, screenshotExplorer, showRunsPane, waitForRow, widenSideBar } from './runsPane';

const A = { file: 'cmp-a.cl.json', name: 'Compare A' };
const B = { file: 'cmp-b.cl.json', name: 'Compare B' };
const SEEDS = { file: 'cmp-seeds.cl.json', name: 'Seeds sweep' };

/** The completed run folder (not a sweep) whose result names this experiment. */
function completedRun(wb: Workbench, name: string): { dir: string; result: RunResult } | undefined {
  for (const f of runDirs(wb)) {
    const dir = join(runsDir(wb), f);
    const r = readResult(dir);
    if (r?.experiment.name === name && r.status === 'completed') return { dir, result: r };
  }
  return undefined;
}

// ---- the compare panel --------------------------------------------------------------------------

interface Cell {
  testid: string;
  level: string;
  text: string;
  mean: string | null;
  sem: string | null;
}

/** Every matrix cell the compare panel shows (cmp-cell-<index>-<i>-<j>), read in one go. */
async function matrixCells(frame: FrameLocator): Promise<Cell[]> {
  return frame.locator('[data-testid^="cmp-cell-"]').evaluateAll((els) =>
    els.map((el) => ({
      testid: el.getAttribute('data-testid') ?? '',
      level: el.getAttribute('data-level') ?? '',
      text: (el.textContent ?? '').replace(/\s+/g, ' ').trim(),
      mean: el.getAttribute('data-mean'),
      sem: el.getAttribute('data-sem'),
    })),
  );
}

const cellIndex = (testid: string) => testid.replace('cmp-cell-', '').split('-').map(Number) as [number, number, number];

describe('Compare and sweeps in VS Code (code-server + Chromium)', () => {
  const { step } = workbenchSuite('compare', {
    theme: 'dark',
    viewport: { width: 1600, height: 1000 },
    fixtures: [A.file, B.file, SEEDS.file],
    settings: { 'continualWorkbench.maxConcurrentRuns': 2 },
  });

  test('two runs multi-selected in the Runs view, Compare: every cell of R in the compare panel matches the result files', { timeout: 480_000 }, () =>
    step('compare', async (wb) => {
      await showRunsPane(wb);
      await wb.explorerContextAction(A.file, 'Run Continual Experiment');
      await wb.explorerContextAction(B.file, 'Run Continual Experiment');
      await waitForRow(wb, [A.name, /completed/], 360_000, 'run A completed');
      await waitForRow(wb, [B.name, /completed/], 360_000, 'run B completed');
      const a = await waitFor(() => completedRun(wb, A.name), { timeout: 10_000, message: 'result of A' });
      const b = await waitFor(() => completedRun(wb, B.name), { timeout: 10_000, message: 'result of B' });
      await wb.closeAllEditors();

      // Multi-select: click A, ctrl-click B; both rows selected; Compare from the selection's menu.
      await runRow(wb, A.name, 'completed').click();
      await runRow(wb, B.name, 'completed').click({ modifiers: ['ControlOrMeta'] });
      await waitFor(async () => (await rowStates(wb)).filter((r) => r.selected).length === 2, { timeout: 10_000, message: 'two rows selected' });
      // The view's title bar offers Compare once two runs are selected (context key continualWorkbench.runsSelected).
      const titleCompare = runsPane(wb).locator('.pane-header .action-item a[aria-label="Compare"], .pane-header .action-item [aria-label="Compare"]').first();
      await runsPane(wb).hover();
      const titleButton = await titleCompare.isVisible().catch(() => false);
      console.log(`Compare in the Runs view's title bar with two selected: ${titleButton}`);
      // The title bar's button acts on the selection with one click (a context menu's retry after a
      // lost click could act again on a selection the first click changed).
      if (titleButton) await titleCompare.click();
      else await rowAction(wb, runRow(wb, B.name, 'completed'), 'Compare');

      await waitFor(() => wb.tab('Compare: 2 runs').isVisible(), { timeout: 30_000, message: 'the compare panel tab "Compare: 2 runs"' });
      await sleep(1_000);
      const compareTabs = await wb.page.locator('.tabs-container .tab').filter({ hasText: /^\s*Compare: / }).allInnerTexts();
      assert.deepEqual(compareTabs.map((t) => t.trim()), ['Compare: 2 runs'], 'one compare panel, titled with the number of runs');
      const frame = wb.webviewFrame();

      // Group level (the default here: the runs differ only in their seed): mean ± SEM of the two.
      let cells: Cell[] = [];
      await waitFor(async () => (cells = await matrixCells(frame)).length > 0, { timeout: 60_000, message: 'matrix cells in the compare panel' });
      const R = [a.result.accuracyMatrix, b.result.accuracyMatrix];
      const phases = R[0].length;
      const tasks = a.result.tasks.length;
      assert.equal(phases, 2);
      assert.ok(cells.every((c) => c.level === 'group'), `one group of two seeds: ${JSON.stringify(cells.map((c) => c.level))}`);
      assert.equal(cells.length, phases * tasks, 'one matrix of the group: every cell of R');
      const seen = new Set<string>();
      for (const c of cells) {
        const [g, i, j] = cellIndex(c.testid);
        assert.equal(g, 0);
        const x = [R[0][i][j], R[1][i][j]];
        const expected = meanSem(x);
        assert.ok(Math.abs(expected.mean! - (x[0] + x[1]) / 2) < 1e-12 && Math.abs(expected.sem! - Math.abs(x[0] - x[1]) / 2) < 1e-12, 'SEM of two = half their difference');
        assert.equal(c.text, `${formatPercent(expected.mean)} ± ${formatPercent(expected.sem)}`, `${c.testid}: R[${i}][${j}] = ${x.join(', ')}`);
        assert.ok(Math.abs(Number(c.mean) - expected.mean!) < 1e-9, `${c.testid} data-mean ${c.mean}`);
        assert.ok(Math.abs(Number(c.sem) - expected.sem!) < 1e-9, `${c.testid} data-sem ${c.sem}`);
        seen.add(`${i}-${j}`);
      }
      assert.equal(seen.size, phases * tasks, 'no cell twice, none missing');
      console.log(`group cells: ${cells.map((c) => `${c.testid}=${c.text}`).join(', ')}`);
      await wb.page.mouse.move(1500, 950);
      await sleep(500);
      const groupShot = await wb.screenshot('compare-panel-groups');

      // Run level: each run's own R, cell for cell.
      await frame.locator('[data-testid="cmp-level-run"]').click();
      await waitFor(async () => (cells = await matrixCells(frame)).length > 0 && cells.every((c) => c.level === 'run'), { timeout: 15_000, message: 'run-level matrix cells' });
      assert.equal(cells.length, 2 * phases * tasks, 'two matrices, every cell');
      const byRun = new Map<number, Cell[]>();
      for (const c of cells) byRun.set(cellIndex(c.testid)[0], [...(byRun.get(cellIndex(c.testid)[0]) ?? []), c]);
      assert.deepEqual([...byRun.keys()].sort(), [0, 1]);
      const matched = new Set<number>();
      for (const [k, runCells] of byRun) {
        // Which result this matrix is: the one whose every cell it shows (the two seeds' R differ).
        const which = R.findIndex((r) => runCells.every((c) => {
          const [, i, j] = cellIndex(c.testid);
          return c.text === formatPercent(r[i][j]) && Math.abs(Number(c.mean) - r[i][j]) < 1e-9;
        }));
        assert.ok(which >= 0, `matrix ${k} matches neither result: ${JSON.stringify(runCells.map((c) => [c.testid, c.text]))}; A ${JSON.stringify(R[0])}, B ${JSON.stringify(R[1])}`);
        matched.add(which);
        assert.equal(runCells.length, phases * tasks);
      }
      assert.equal(matched.size, 2, 'each result shown once');
      console.log(`run cells: ${cells.map((c) => `${c.testid}=${c.text}`).join(', ')}`);
      await wb.page.mouse.move(1500, 950);
      await sleep(500);
      const runShot = await wb.screenshot('compare-panel-runs');
      console.log(`screenshots: ${groupShot}, ${runShot}`);
      await wb.expectNoCspViolations('in the compare panel');
    }));

  test('a file with "seeds": [0, 1] run from VS Code: one sweep node, 2 runs completed, expandable to them', { timeout: 480_000 }, () =>
    step('sweep', async (wb) => {
      await wb.closeAllEditors();
      await showRunsPane(wb);
      await wb.explorerContextAction(SEEDS.file, 'Run Continual Experiment');
      const running = await waitForRow(wb, [SEEDS.name, /^.*sweep · \d\/2 completed/], 60_000, 'the sweep node');
      console.log(`sweep while running: ${running.text}`);
      const done = await waitForRow(wb, [SEEDS.name, 'sweep · 2/2 completed'], 420_000, 'the sweep with 2 completed runs');
      console.log(`sweep done: ${done.text} (${done.icon})`);
      // On disk: one sweep folder, its index, both runs completed in their folders.
      const sweeps = runDirs(wb).filter((f) => existsSync(join(runsDir(wb), f, 'sweep.json')));
      assert.equal(sweeps.length, 1, 'one sweep folder');
      const dir = join(runsDir(wb), sweeps[0]);
      const index = JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8')) as SweepIndex;
      assert.equal(index.runs.length, 2);
      assert.deepEqual(index.runs.map((r) => r.params.seed), [0, 1]);
      for (const r of index.runs) assert.equal(readResult(join(dir, r.folder))?.status, 'completed', `${r.folder} completed`);
      assert.deepEqual(index.runs.map((r) => readResult(join(dir, r.folder))?.experiment.seed), [0, 1], 'each run trained with its seed');
      // Not listed as runs of their own at the top level.
      assert.equal((await rowStates(wb)).filter((r) => r.level === '1' && r.text.includes(SEEDS.name)).length, 1);

      const node = runRow(wb, SEEDS.name, 'sweep · 2/2 completed');
      if ((await node.getAttribute('aria-expanded')) !== 'true') await node.click();
      await waitFor(async () => (await rowStates(wb)).filter((r) => r.level === '2' && /^seed [01](?!\d)/.test(r.text) && /completed/.test(r.text)).length === 2, {
        timeout: 15_000,
        message: 'the sweep\'s two runs under it, completed',
      });
      const children = (await rowStates(wb)).filter((r) => r.level === '2');
      console.log(`sweep children:\n  ${children.map((r) => `${r.icon}: ${r.text}`).join('\n  ')}`);
      console.log(`side bar widened to ${await widenSideBar(wb, 640)} px for the picture`);
      console.log(`screenshot: ${await screenshotExplorer(wb, 'compare-sweep-node')}`);
      // The sweep's compare panel opened when it started and filled in as its runs finished.
      assert.ok(await wb.tab('Compare: Seeds sweep').isVisible(), 'the sweep\'s compare panel');

      // Resume skips completed runs: one run's result gone, Resume runs that one only.
      const kept = readFileSync(join(dir, index.runs[0].folder, 'result.json'), 'utf8');
      rmSync(join(dir, index.runs[1].folder, 'result.json'));
      await waitForRow(wb, [SEEDS.name, 'sweep · 1/2 completed · 1 not started'], 30_000, 'the sweep with a run to resume');
      await rowAction(wb, runRow(wb, SEEDS.name, 'sweep · 1/2 completed'), 'Resume Sweep (Skip Completed Runs)');
      await waitForRow(wb, [SEEDS.name, 'sweep · 2/2 completed'], 300_000, 'the resumed sweep completed');
      assert.equal(readFileSync(join(dir, index.runs[0].folder, 'result.json'), 'utf8'), kept, 'the completed run was not run again');
      const resumed = readResult(join(dir, index.runs[1].folder));
      assert.equal(resumed?.status, 'completed');
      assert.equal(resumed?.experiment.seed, 1);
      assert.equal(runDirs(wb).filter((f) => existsSync(join(runsDir(wb), f, 'sweep.json'))).length, 1, 'resumed in place: no new sweep folder');
    }));
});
