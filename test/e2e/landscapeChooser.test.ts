// End-to-end: the plane chosen after the run, in a real VS Code (code-server + Chromium). A tiny
// three-task run (its own plane through phases 0 and 1) finishes; in its panel θ_B is set to phase 2
// and Compute starts a landscape-only job (no retraining) whose progress the card shows; the new plane
// is drawn with θ_A at (0,0) and θ_B at (1,0), read back from the markers' plotted coordinates and
// from the saved file (optima, anchors). Closed and reopened from the Runs view, the panel lists the
// saved plane and shows it again. Screenshots (dark, light) in test-artifacts/e2e/.
// Run: npm run build && node --import tsx --test test/e2e/landscapeChooser.test.ts
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { FrameLocator } from 'playwright-core';
import type { LandscapeResult } from '../../src/protocol/result';
import { ARTIFACTS_DIR, readResult, runDirs, runsDir, waitFor, workbenchSuite, type Workbench } from './harness';
import { runRow, showRunsPane, waitForRow } from './runsPane';

// A 7 x 7 grid over α in [-1, 2], β in [-1.5, 1.5]: steps of 0.5, so (0,0) and (1,0) are grid points.
const RUN = { file: 'landscape-three.cl.json', name: 'Three tiny tasks for the landscape chooser' };
const SAVED = 'landscape-0-2-pca.json';

const attr = (frame: FrameLocator, testid: string, name: string) => frame.locator(`[data-testid="${testid}"]`).first().getAttribute(name, { timeout: 2_000 });

/** The optimum markers of every map: which, phase, and their plotted plane coordinates. */
async function markers(frame: FrameLocator) {
  return frame.locator('[data-testid="landscape-map"] [data-testid="optimum"]').evaluateAll((els) =>
    els.map((e) => ({ which: e.getAttribute('data-which'), phase: Number(e.getAttribute('data-task')), alpha: Number(e.getAttribute('data-alpha')), beta: Number(e.getAttribute('data-beta')) })),
  );
}

/** Picks an option of a vscode-single-select by its label: open the dropdown, click the option. */
async function choose(frame: FrameLocator, testid: string, label: RegExp): Promise<void> {
  const select = frame.locator(`[data-testid="${testid}"]`);
  await select.click();
  // The dropdown's options live in the element's (open) shadow root.
  await select.locator('li[role="option"]', { hasText: label }).first().click({ timeout: 5_000 });
}

/** The run panel's landscape card, scrolled into view, as a picture of the webview. */
async function shootCard(wb: Workbench, frame: FrameLocator, name: string): Promise<string> {
  await frame.locator('[data-testid="landscape-chooser"]').scrollIntoViewIfNeeded();
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await wb.page.locator('iframe.webview.ready').filter({ visible: true }).first().screenshot({ path });
  return path;
}

describe('the landscape plane chosen after the run (code-server + Chromium)', () => {
  const { step } = workbenchSuite('landscape-chooser', { theme: 'dark', fixtures: [RUN.file], viewport: { width: 1600, height: 1100 } });
  let runDir = '';

  test('a three-task run: choose θ_A = phase 0, θ_B = phase 2, compute the plane; its optima are marked at (0,0) and (1,0) and saved', { timeout: 420_000 }, () =>
    step('compute', async (wb) => {
      const known = runDirs(wb);
      await wb.explorerContextAction(RUN.file, 'Run Continual Experiment');
      const frame = wb.webviewFrame();
      await waitFor(async () => ((await frame.locator('[data-testid="run-status"]').first().textContent({ timeout: 2_000 }).catch(() => '')) ?? '').trim() === 'completed', {
        timeout: 300_000,
        interval: 1_000,
        message: 'the three-task run to complete in its panel',
      });
      const folder = runDirs(wb).find((n) => !known.includes(n));
      assert.ok(folder, 'a new run folder');
      runDir = join(runsDir(wb), folder);
      const result = readResult(runDir)!;
      assert.equal(result.status, 'completed');
      assert.equal(result.weights?.phases, 3, 'the run kept the end weights of its three phases');
      assert.deepEqual(result.landscape?.optima, [0, 1], 'its own plane runs through phases 0 and 1');

      // The chooser: the run's own plane shown, θ_A phase 0, θ_B phase 1.
      await frame.locator('[data-testid="landscape-chooser"]').waitFor({ state: 'visible', timeout: 30_000 });
      assert.match((await frame.locator('[data-testid="landscape-plane"]').textContent()) ?? '', /the run’s own landscape/);
      const own = (await markers(frame)).filter((m) => m.which === 'B');
      assert.ok(own.length >= 2 && own.every((m) => m.phase === 1), `the own plane: θ_B is phase 1 on every map (${JSON.stringify(own)})`);

      await choose(frame, 'landscape-b', /\(phase 2\)/);
      const compute = frame.locator('[data-testid="landscape-compute"]');
      await waitFor(async () => ((await compute.textContent()) ?? '').trim() === 'Compute', { timeout: 5_000, message: 'Compute offered for phases 0 and 2' });
      await compute.click();

      // The job's progress (done / total) with a Cancel, until the new plane is shown.
      const progress: string[] = [];
      let shotProgress = '';
      await waitFor(
        async () => {
          const p = frame.locator('[data-testid="landscape-progress"]');
          if (await p.isVisible().catch(() => false)) {
            const t = ((await p.textContent().catch(() => '')) ?? '').trim();
            if (t && progress.at(-1) !== t) progress.push(t);
            // One picture of the job under way (its progress bar and Cancel).
            if (/grid points: \d+ \/ \d+/.test(t) && !shotProgress) shotProgress = await shootCard(wb, frame, 'landscape-chooser-progress-dark');
          }
          const error = ((await frame.locator('[data-testid="landscape-error"]').textContent({ timeout: 500 }).catch(() => '')) ?? '').trim();
          if (error && (await frame.locator('[data-testid="landscape-error"]').isVisible())) throw Object.assign(new Error(`the card says: ${error}`), { fatal: true });
          return (await attr(frame, 'landscape-plane', 'data-file').catch(() => null)) === SAVED;
        },
        { timeout: 240_000, interval: 100, message: `the plane ${SAVED} to be shown` },
      );
      console.log(`progress seen: ${progress.join(' | ')}; picture while computing: ${shotProgress || 'none (too fast)'}`);
      // The job reported its progress up to done = total (kept by the card: a fast job can end between two looks).
      const last = /^(\d+) \/ (\d+)$/.exec((await attr(frame, 'landscape-chooser', 'data-last-progress')) ?? '');
      assert.ok(last && Number(last[2]) > 0 && last[1] === last[2], `the job's last progress was done = total (${last?.[0]}; seen while polling: ${progress.join(', ')})`);

      // In the DOM: on each of the three maps θ_A (phase 0) at (0,0), θ_B (phase 2) at (1,0).
      const drawn = await markers(frame);
      assert.equal(drawn.length, 6, JSON.stringify(drawn));
      for (const m of drawn) {
        if (m.which === 'A') assert.deepEqual(m, { which: 'A', phase: 0, alpha: 0, beta: 0 });
        else assert.deepEqual(m, { which: 'B', phase: 2, alpha: 1, beta: 0 });
      }
      assert.equal(await attr(frame, 'landscape-plane', 'data-optima'), '0,2');
      assert.match((await frame.locator('[data-testid="landscape-plane"]').textContent()) ?? '', /θA after mnist \(phase 0\) · θB after permuted MNIST \(phase 2\) · axis 2: trajectory PCA — saved as landscape-0-2-pca\.json/);

      // On disk: the saved plane, its optima and anchors (θ_A and θ_B evaluated directly = the grid at (0,0), (1,0)).
      const file = join(runDir, SAVED);
      assert.ok(existsSync(file), `${file} saved`);
      const land = JSON.parse(readFileSync(file, 'utf8')) as LandscapeResult;
      assert.deepEqual(land.optima, [0, 2]);
      assert.equal(land.alphas.length, 7);
      assert.equal(land.betas.length, 7);
      assert.equal(land.grids.length, 3);
      const anchors = land.anchors ?? [];
      assert.deepEqual(anchors.map((a) => [a.which, a.alpha]), [['A', 0], ['B', 1]]);
      for (const a of anchors) {
        assert.ok(a.grid, `${a.which} sits on a grid point`);
        assert.deepEqual(a.grid.loss, a.direct.loss, `${a.which}: the grid's loss is the direct evaluation`);
      }
      const row = land.betas.indexOf(0);
      assert.ok(row >= 0 && land.alphas.includes(0) && land.alphas.includes(1), 'β = 0, α = 0 and α = 1 are grid coordinates');
      // θ_B is the model trained on permuted MNIST, θ_A has never seen it: its loss is lower at (1,0).
      const col = (a: number) => land.alphas.indexOf(a);
      assert.ok(land.grids[2].loss[row][col(1)] < land.grids[2].loss[row][col(0)], 'permuted MNIST: lower loss at θ_B');
      assert.deepEqual(readResult(runDir)?.landscape?.optima, [0, 1], 'the run’s own landscape in result.json is untouched');

      await wb.expectNoCspViolations('while the landscape job streamed into the panel');
      console.log(`screenshots: ${await shootCard(wb, frame, 'landscape-chooser-dark')}`);
      await wb.setTheme('light');
      await frame.locator('[data-testid="landscape-plane"]').waitFor({ state: 'visible' });
      console.log(`screenshots: ${await shootCard(wb, frame, 'landscape-chooser-light')}`);
      await wb.setTheme('dark');
    }));

  test('closed and reopened from the Runs view, the panel lists the saved plane and shows it again', { timeout: 180_000 }, () =>
    step('reopen', async (wb) => {
      assert.ok(runDir, 'needs the run of the first test');
      await wb.closeAllEditors();
      await showRunsPane(wb);
      await waitForRow(wb, [RUN.name, /completed/], 30_000, 'the run listed as completed');
      await runRow(wb, RUN.name, 'completed').click();
      const frame = wb.webviewFrame();
      await frame.locator('[data-testid="landscape-chooser"]').waitFor({ state: 'visible', timeout: 60_000 });
      const saved = await frame.locator('[data-testid="landscape-saved"] vscode-option').evaluateAll((els) => els.map((e) => e.getAttribute('value')));
      assert.deepEqual(saved, ['', SAVED], 'the run’s own plane and the saved one');
      await waitFor(async () => (await attr(frame, 'landscape-plane', 'data-file').catch(() => null)) === SAVED, { timeout: 30_000, message: 'the saved plane shown again' });
      const drawn = await markers(frame);
      assert.deepEqual([...new Set(drawn.map((m) => `${m.which}:${m.phase}@${m.alpha},${m.beta}`))].sort(), ['A:0@0,0', 'B:2@1,0']);

      // Back to the run's own plane from the list: drawn through phases 0 and 1 again.
      await choose(frame, 'landscape-saved', /the run’s own/);
      await waitFor(async () => (await attr(frame, 'landscape-plane', 'data-optima').catch(() => null)) === '0,1', { timeout: 30_000, message: 'the run’s own plane shown' });
      assert.equal(await attr(frame, 'landscape-plane', 'data-file'), '');
      await wb.expectNoCspViolations('after reopening the panel');
    }));
});
