// End-to-end: the Runs view in the Explorer of a real VS Code (code-server + Chromium). A run
// appears live (running, then completed with the ACC of its result.json), a cancelled run says
// cancelled, a result.json cut in half says incomplete, a failed one its error; Delete moves a run
// folder away after a modal confirmation. Screenshots (dark and light) in test-artifacts/e2e/.
// Run: npm run build && node --import tsx --test test/e2e/runsView.test.ts
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { RunResult } from '../../src/protocol/result';
import { formatPercent, formatPoints } from '../../src/protocol/format';
import { readResult, runDirs, runsDir, sleep, waitFor, workbenchSuite } from './harness';
import { rowAction, rowStates, runRow, screenshotExplorer, showRunsPane, waitForRow, widenSideBar } from './runsPane';

const TINY = { file: 'tiny.cl.json', name: 'Tiny MNIST then Fashion-MNIST' };
const LONG = { file: 'long.cl.json', name: 'Long MNIST then Fashion-MNIST' };

describe('the Runs view in VS Code (code-server + Chromium)', () => {
  const { step } = workbenchSuite('runs-view', { theme: 'dark', viewport: { width: 1600, height: 1000 } });
  let tiny: { dir: string; result: RunResult } | undefined;

  test('empty: a welcome text; a run appears live as running, then completed with the ACC and BWT of its result.json', { timeout: 300_000 }, () =>
    step('live-run', async (wb) => {
      const pane = await showRunsPane(wb);
      await waitFor(async () => /No runs yet/.test((await pane.locator('.welcome-view-content').first().textContent().catch(() => '')) ?? ''), {
        timeout: 30_000,
        message: 'the Runs view\'s welcome text',
      });
      await screenshotExplorer(wb, 'runs-view-empty-dark');

      const known = runDirs(wb);
      await wb.explorerContextAction(TINY.file, 'Run Continual Experiment');
      const running = await waitForRow(wb, [TINY.name, /running \d+%|queued/], 60_000, 'the tiny run listed as running');
      assert.equal(running.icon, /queued/.test(running.text) ? 'clock' : 'sync', `running icon (${running.text})`);
      console.log(`while running: ${running.text}`);

      const completed = await waitForRow(wb, [TINY.name, /completed/], 240_000, 'the tiny run listed as completed');
      const folder = runDirs(wb).find((n) => !known.includes(n));
      assert.ok(folder, 'a new run folder');
      const result = readResult(join(runsDir(wb), folder));
      assert.equal(result?.status, 'completed');
      tiny = { dir: join(runsDir(wb), folder), result: result! };
      const text = completed.text;
      assert.ok(text.includes(`ACC ${formatPercent(result!.metrics.acc)}%`), `"${text}" shows ACC ${formatPercent(result!.metrics.acc)}%`);
      assert.ok(text.includes(`BWT ${formatPoints(result!.metrics.bwt, true)}`), `"${text}" shows BWT ${formatPoints(result!.metrics.bwt, true)}`);
      assert.match(text, /Naive · domain-IL/);
      assert.equal(completed.icon, 'pass');
      assert.equal((await rowStates(wb)).length, 1, 'one run, one row');
      const completedRow = runRow(wb, TINY.name, 'completed');

      // The tooltip: the accuracy matrix as a table, R[0][0] among its cells.
      const hover = wb.page.locator('.monaco-hover, .workbench-hover').filter({ hasText: 'R (%)' }).first();
      await waitFor(
        async () => {
          if (await hover.isVisible().catch(() => false)) return true;
          // Hovers need the pointer to arrive and rest: leave and come back.
          await wb.page.mouse.move(1500, 900);
          await completedRow.locator('.label-name').first().hover();
          await sleep(1_500);
          return hover.isVisible().catch(() => false);
        },
        { timeout: 40_000, interval: 100, message: 'the tooltip with the accuracy matrix' },
      );
      await sleep(500); // fully faded in for the picture
      const hoverText = (await hover.textContent()) ?? '';
      assert.ok(hoverText.includes(formatPercent(result!.accuracyMatrix[0][0])), `tooltip has R[0][0] = ${formatPercent(result!.accuracyMatrix[0][0])}: ${hoverText.slice(0, 300)}`);
      await wb.screenshot('runs-view-tooltip-dark');
      await wb.page.mouse.move(1500, 900);

      // Open: the result in the workbench's result editor.
      await wb.closeAllEditors();
      await completedRow.click();
      await waitFor(() => wb.tab('result.json').isVisible(), { timeout: 30_000, message: 'Open Run to open result.json in the workbench' });
      await waitFor(
        async () => ((await wb.webviewFrame().locator('[data-testid="run-status"]').first().textContent({ timeout: 2_000 }).catch(() => '')) ?? '').trim() === 'completed',
        { timeout: 30_000, message: 'the opened result to say completed' },
      );
    }));

  test('a run cancelled from the Runs view shows cancelled', { timeout: 180_000 }, () =>
    step('cancel', async (wb) => {
      await wb.closeAllEditors();
      await showRunsPane(wb);
      await wb.explorerContextAction(LONG.file, 'Run Continual Experiment');
      // Cancel while it trains (the row's detail names the step).
      await waitForRow(wb, [LONG.name, /running \d+%.*step/], 120_000, 'the long run training');
      await rowAction(wb, runRow(wb, LONG.name, /running/), 'Cancel Run');
      const cancelled = await waitForRow(wb, [LONG.name, /cancelled/], 60_000, 'the long run listed as cancelled');
      assert.equal(cancelled.icon, 'circle-slash');
      const folder = runDirs(wb).find((n) => readResult(join(runsDir(wb), n))?.experiment.name === LONG.name);
      assert.equal(folder && readResult(join(runsDir(wb), folder))?.status, 'cancelled', 'result.json says cancelled too');
    }));

  test('a truncated result.json shows "no result (incomplete)", a failed one its error; newest first; screenshots dark and light; Delete', { timeout: 180_000 }, () =>
    step('files', async (wb) => {
      assert.ok(tiny, 'needs the tiny run of the first test');
      await wb.closeAllEditors();
      await showRunsPane(wb);
      const text = readFileSync(join(tiny.dir, 'result.json'), 'utf8');
      const truncatedDir = join(runsDir(wb), '20991231-235959-truncated');
      mkdirSync(truncatedDir);
      writeFileSync(join(truncatedDir, 'result.json'), text.slice(0, Math.floor(text.length / 2)));
      const failedDir = join(runsDir(wb), '20991231-235958-failed');
      mkdirSync(failedDir);
      const failed = JSON.parse(text) as RunResult;
      failed.status = 'failed';
      failed.error = { phase: 'data', message: 'cannot read mnist/train-images-idx3-ubyte: ENOENT' };
      failed.timing.startedAt = new Date(2099, 11, 31, 23, 59, 58).toISOString();
      writeFileSync(join(failedDir, 'result.json'), JSON.stringify(failed));

      const truncated = await waitForRow(wb, ['20991231-235959-truncated', 'no result (incomplete)'], 30_000, 'the truncated result listed as incomplete');
      assert.equal(truncated.icon, 'warning');
      const failedRow = await waitForRow(wb, [TINY.name, 'failed: cannot read mnist/train-images-idx3-ubyte: ENOENT'], 30_000, 'the failed run with its error');
      assert.equal(failedRow.icon, 'error');

      const rows = (await rowStates(wb)).map((r) => `${r.icon}: ${r.text}`);
      console.log(`Runs view rows:\n  ${rows.join('\n  ')}`);
      assert.equal(rows.length, 4, 'tiny, long, truncated, failed');
      assert.match(rows[0], /20991231-235959-truncated/, 'newest first');
      assert.match(rows[1], /failed: cannot read/);
      assert.match(rows[2], /Long MNIST.*cancelled/);
      assert.match(rows[3], /Tiny MNIST.*completed/);

      console.log(`side bar widened to ${await widenSideBar(wb, 620)} px for the pictures`);
      await screenshotExplorer(wb, 'runs-view-dark');
      await wb.setTheme('light');
      await screenshotExplorer(wb, 'runs-view-light');
      await wb.setTheme('dark');

      // Delete: a modal confirmation, then the folder is gone (to the trash, or for good where there is none).
      await rowAction(wb, runRow(wb, '20991231-235959-truncated'), 'Delete Run');
      const confirm = wb.page.locator('.monaco-dialog-box').filter({ hasText: 'Delete the run "20991231-235959-truncated"?' }).first();
      await confirm.waitFor({ state: 'visible', timeout: 10_000 });
      await wb.screenshot('runs-view-delete-confirm');
      await confirm.getByRole('button', { name: 'Move to Trash' }).click();
      await waitFor(
        async () => {
          if (!existsSync(truncatedDir)) return true;
          const forGood = wb.page.locator('.monaco-dialog-box').filter({ hasText: 'Delete the run folders permanently instead?' }).first();
          if (await forGood.isVisible().catch(() => false)) {
            console.log(`no trash here: ${((await forGood.textContent()) ?? '').slice(0, 200)}`);
            await forGood.getByRole('button', { name: 'Delete Permanently' }).click();
          }
          return false;
        },
        { timeout: 20_000, message: 'the deleted run folder to go' },
      );
      await waitFor(async () => (await rowStates(wb)).length === 3, { timeout: 15_000, message: 'the deleted run to leave the view' });
      assert.ok(!(await rowStates(wb)).some((r) => r.text.includes('20991231-235959-truncated')));
    }));
});
