// End-to-end: the Runs view in the Explorer of a real VS Code (code-server + Chromium). A run
// appears live (running, then completed with the ACC of its result.json), a cancelled run says
// cancelled, a result.json cut in half says incomplete, a failed one its error; Delete moves a run
// folder away after a modal confirmation. Screenshots (dark and light) in test-artifacts/e2e/.
// Run: npm run build && node --import tsx --test test/e2e/runsView.test.ts
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Locator } from 'playwright-core';
import type { RunResult } from '../../src/protocol/result';
import { formatPercent, formatPoints } from '../../src/protocol/format';
import { ARTIFACTS_DIR, REPO_ROOT, Workbench, checkInstalled, sleep, waitFor } from './harness';

const TINY = { file: 'tiny.cl.json', name: 'Tiny MNIST then Fashion-MNIST' };
const LONG = { file: 'long.cl.json', name: 'Long MNIST then Fashion-MNIST' };
const RUNS_REL = '.continual/runs';

function checkBuilt(): void {
  const missing = ['dist/extension.js', 'dist/trainer.js', 'dist/webview.js'].filter((f) => !existsSync(join(REPO_ROOT, f)));
  if (missing.length) throw new Error(`Extension not built (missing ${missing.join(', ')}): run \`npm run build\` first.`);
}

const runsDir = (wb: Workbench) => join(wb.workspace, RUNS_REL);

function runFolders(wb: Workbench): string[] {
  return existsSync(runsDir(wb)) ? readdirSync(runsDir(wb)).sort() : [];
}

function readResult(dir: string): RunResult | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as RunResult;
  } catch {
    return undefined;
  }
}

// ---- the Runs view in the page ---------------------------------------------------------------

/** The Explorer's "Runs" pane. */
function runsPane(wb: Workbench): Locator {
  return wb.page.locator('.pane').filter({ has: wb.page.locator('.pane-header h3.title', { hasText: /^\s*Runs\s*$/i }) }).first();
}

function runRows(wb: Workbench): Locator {
  return runsPane(wb).locator('.monaco-list-row');
}

/** The row whose text (label + description) matches every pattern. */
function runRow(wb: Workbench, ...patterns: (string | RegExp)[]): Locator {
  let rows = runRows(wb);
  for (const p of patterns) rows = rows.filter({ hasText: p });
  return rows.first();
}

/** Shows the Explorer with the Runs pane expanded. */
async function showRunsPane(wb: Workbench): Promise<Locator> {
  const pane = runsPane(wb);
  if (!(await pane.isVisible().catch(() => false))) await wb.runCommandFromPalette('View: Show Explorer').catch(() => undefined);
  await pane.waitFor({ state: 'visible', timeout: 60_000 });
  const header = pane.locator('.pane-header').first();
  if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
  await waitFor(async () => (await header.getAttribute('aria-expanded')) !== 'false', { timeout: 10_000, message: 'the Runs pane to expand' });
  return pane;
}

interface RowState {
  text: string;
  /** The codicon of the row's icon ("pass", "sync", …). */
  icon: string;
}

/** Every row's text and icon, read in one go (a row can change between two reads while a run streams). */
async function rowStates(wb: Workbench): Promise<RowState[]> {
  return runRows(wb).evaluateAll((els) =>
    els.map((el) => {
      const icon = el.querySelector('.custom-view-tree-node-item-icon');
      const m = /codicon-(?!modifier)([\w-]+)/.exec(icon?.getAttribute('class') ?? '');
      return { text: (el.textContent ?? '').replace(/\s+/g, ' ').trim(), icon: m ? m[1] : '' };
    }),
  );
}

const matches = (text: string, patterns: (string | RegExp)[]) => patterns.every((p) => (typeof p === 'string' ? text.includes(p) : p.test(text)));

/** Wait for a row whose text matches every pattern; returns its text and icon as they were then. */
async function waitForRow(wb: Workbench, patterns: (string | RegExp)[], timeout: number, what: string): Promise<RowState> {
  let last: RowState[] = [];
  return waitFor(
    async () => {
      last = await rowStates(wb);
      return last.find((r) => matches(r.text, patterns));
    },
    { timeout, interval: 250, message: what },
  ).catch(async (e: Error) => {
    const shot = await wb.screenshot(`runs-view-timeout-${what}`).catch(() => '');
    throw new Error(`${e.message}; rows: ${JSON.stringify(last)}; screenshot ${shot}`);
  });
}

/** Right-click a row of the Runs view and click a menu item (re-opening the menu if the click was lost). */
async function rowAction(wb: Workbench, row: Locator, item: string): Promise<void> {
  const menu = wb.page.locator('.context-view .monaco-menu').first();
  for (let attempt = 0; attempt < 4; attempt++) {
    await row.click({ button: 'right' });
    await menu.waitFor({ state: 'visible', timeout: 5_000 }).catch(() => undefined);
    const entry = wb.page.getByRole('menuitem', { name: item, exact: true }).first();
    if (await entry.isVisible().catch(() => false)) {
      await entry.hover();
      await sleep(200);
      await entry.click({ timeout: 5_000 }).catch(() => undefined);
      if (!(await menu.isVisible().catch(() => false))) return;
    }
    const items = await wb.page.getByRole('menuitem').allInnerTexts().catch(() => []);
    await wb.page.keyboard.press('Escape');
    if (attempt === 3) throw new Error(`menu item "${item}" not found; the menu had ${JSON.stringify(items.map((s) => s.trim()).filter(Boolean))}`);
    await sleep(500);
  }
}

/** Drags the side bar wider (the descriptions are long); returns its width. */
async function widenSideBar(wb: Workbench, width: number): Promise<number> {
  const bar = wb.page.locator('.part.sidebar').first();
  const box = await bar.boundingBox();
  if (!box || box.width >= width) return box?.width ?? 0;
  const y = box.y + box.height / 2;
  await wb.page.mouse.move(box.x + box.width + 1, y);
  await wb.page.mouse.down();
  await wb.page.mouse.move(box.x + width, y, { steps: 12 });
  await wb.page.mouse.up();
  await sleep(300);
  return (await bar.boundingBox())?.width ?? 0;
}

/** A screenshot of the side bar (the Explorer with the Runs view) and of the window. */
async function screenshotExplorer(wb: Workbench, name: string): Promise<string> {
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await wb.page.mouse.move(1500, 900); // no hover, no tooltip over the view
  await sleep(800);
  await wb.page.locator('.part.sidebar').first().screenshot({ path });
  await wb.screenshot(`${name}-window`);
  return path;
}

describe('the Runs view in VS Code (code-server + Chromium)', () => {
  let wb: Workbench | undefined;
  let tiny: { dir: string; result: RunResult } | undefined;

  before(
    async () => {
      checkInstalled();
      checkBuilt();
      wb = await Workbench.start({ theme: 'dark', viewport: { width: 1600, height: 1000 } });
    },
    { timeout: 120_000 },
  );

  after(
    async () => {
      if (!wb) return;
      await wb.saveLogs('runs-view').catch(() => undefined);
      await wb.close();
    },
    { timeout: 60_000 },
  );

  async function step(name: string, fn: (wb: Workbench) => Promise<void>): Promise<void> {
    assert.ok(wb, 'the workbench did not start (see the before hook error)');
    try {
      await fn(wb);
    } catch (e) {
      const shot = await wb.screenshot(`FAILED-runs-view-${name}`).catch(() => 'none');
      for (let k = 0; k < 2; k++) await wb.page.keyboard.press('Escape').catch(() => undefined);
      const logs = await wb.saveLogs(`FAILED-runs-view-${name}`).catch(() => 'none');
      const extErrors = await wb.extensionErrors().catch(() => []);
      const msg = [(e as Error).message, `screenshot: ${shot}`, `logs: ${logs}`, ...(extErrors.length ? ['extension host errors:', ...extErrors] : [])].join('\n  ');
      throw Object.assign(new Error(msg, { cause: e }), { stack: `${msg}\n${(e as Error).stack ?? ''}` });
    }
  }

  test('empty: a welcome text; a run appears live as running, then completed with the ACC and BWT of its result.json', { timeout: 300_000 }, () =>
    step('live-run', async (wb) => {
      const pane = await showRunsPane(wb);
      await waitFor(async () => /No runs yet/.test((await pane.locator('.welcome-view-content').first().textContent().catch(() => '')) ?? ''), {
        timeout: 30_000,
        message: 'the Runs view\'s welcome text',
      });
      await screenshotExplorer(wb, 'runs-view-empty-dark');

      const known = runFolders(wb);
      await wb.explorerContextAction(TINY.file, 'Run Continual Experiment');
      const running = await waitForRow(wb, [TINY.name, /running \d+%|queued/], 60_000, 'the tiny run listed as running');
      assert.equal(running.icon, /queued/.test(running.text) ? 'clock' : 'sync', `running icon (${running.text})`);
      console.log(`while running: ${running.text}`);

      const completed = await waitForRow(wb, [TINY.name, /completed/], 240_000, 'the tiny run listed as completed');
      const folder = runFolders(wb).find((n) => !known.includes(n));
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
      const folder = runFolders(wb).find((n) => readResult(join(runsDir(wb), n))?.experiment.name === LONG.name);
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
