// End-to-end: several runs on one plane in a real VS Code (code-server + Chromium). Two tiny runs
// from one initialisation (naive, and joint training), trained beforehand into the workspace's
// runs folder, multi-selected in the Runs view and compared; in the compare panel the plane card
// computes the plane through θ_A, θ_B (naive's optima) and joint's end weights with a paths job
// (progress, then the maps): θ_A and θ_B sit at (0,0) and (1,0) in plane units, the joint run's
// end on the third point, the files land beside naive's result.json, and the paths card gives
// the barriers as numbers. Screenshot in test-artifacts/e2e/.
// Run: npm run build && node --import tsx --test test/e2e/comparePlane.test.ts
import assert from 'node:assert/strict';
import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runsDir, sleep, waitFor, workbenchSuite } from './harness';
import { rowAction, rowStates, runRow, runsPane, showRunsPane, waitForRow } from './runsPane';
import { experiment, run } from '../helpers/runner';

const NAIVE = 'Plane naive';
const JOINT = 'Plane joint';

describe('Several runs on one plane in the compare panel (code-server + Chromium)', () => {
  const { step } = workbenchSuite('compare-plane', { theme: 'dark', viewport: { width: 1600, height: 1100 }, fixtures: ['tiny.cl.json'] });

  test('Compute in the plane card: the maps with θ_A at (0,0), θ_B at (1,0) and the joint run on the third point; files beside the reference', { timeout: 480_000 }, () =>
    step('plane', async (wb) => {
      const ex = (name: string, strategy: string) =>
        experiment({
          name,
          seed: 5,
          model: { type: 'mlp', hidden: [16] },
          training: { optimizer: 'adam', learningRate: 0.002, batchSize: 50, epochs: 1, evalEvery: 4, evalSamples: 100 },
          tasks: [
            { dataset: 'mnist', train: 300, test: 100 },
            { dataset: 'fashion-mnist', train: 300, test: 100 },
          ],
          strategy: { name: strategy },
          landscape: { grid: 5, samples: 100, alphaRange: [-0.5, 1.5], betaRange: [-1, 1], secondAxis: 'trajectory-pca', checkpointEvery: 2, linePoints: 5, optima: [0, 1] },
        });
      const naiveDir = join(runsDir(wb), 'plane-naive');
      for (const [name, strategy, dir] of [[NAIVE, 'naive', naiveDir], [JOINT, 'joint', join(runsDir(wb), 'plane-joint')]] as const) {
        const r = await run(ex(name, strategy));
        assert.equal(r.result.status, 'completed', r.result.error?.message);
        cpSync(r.outDir, dir, { recursive: true });
      }
      await showRunsPane(wb);
      await waitForRow(wb, [NAIVE, /completed/], 60_000, 'the naive run listed');
      await waitForRow(wb, [JOINT, /completed/], 60_000, 'the joint run listed');
      await runRow(wb, NAIVE, 'completed').click();
      await runRow(wb, JOINT, 'completed').click({ modifiers: ['ControlOrMeta'] });
      await waitFor(async () => (await rowStates(wb)).filter((r) => r.selected).length === 2, { timeout: 10_000, message: 'two rows selected' });
      const titleCompare = runsPane(wb).locator('.pane-header .action-item [aria-label="Compare"]').first();
      await runsPane(wb).hover();
      if (await titleCompare.isVisible().catch(() => false)) await titleCompare.click();
      else await rowAction(wb, runRow(wb, JOINT, 'completed'), 'Compare');
      await waitFor(() => wb.tab('Compare: 2 runs').isVisible(), { timeout: 30_000, message: 'the compare panel' });
      const frame = wb.webviewFrame();
      const card = frame.locator('[data-testid="cmp-plane"]');
      await card.waitFor({ state: 'visible', timeout: 60_000 });
      // The reference is naive (its optima are θ_A, θ_B), the third point joint training's weights (labelled by strategy and seed).
      const reference = frame.locator('[data-testid="plane-reference"]');
      const naiveOption = await reference.locator('option', { hasText: /^Naive/ }).getAttribute('value');
      await reference.selectOption(naiveOption!);
      const third = frame.locator('[data-testid="plane-third"]');
      await third.selectOption((await third.locator('option', { hasText: /^Joint/ }).getAttribute('value'))!);
      await frame.locator('[data-testid="plane-compute"]').click();
      await frame.locator('[data-testid="plane-map"]').first().waitFor({ state: 'attached', timeout: 300_000 });
      assert.equal(await frame.locator('[data-testid="plane-map"]').count(), 2, 'one map per task');
      const at = async (sel: string) =>
        frame.locator(sel).first().evaluate((el) => (el.tagName === 'rect' ? [Number(el.getAttribute('x')) + 5, Number(el.getAttribute('y')) + 5] : [Number(el.getAttribute('cx')), Number(el.getAttribute('cy'))]));
      const map = '[data-testid="plane-map"][data-task="0"]';
      const [ax, ay] = await at(`${map} [data-testid="plane-marker"][data-which="A"] circle`);
      const [bx, by] = await at(`${map} [data-testid="plane-marker"][data-which="B"] circle`);
      assert.ok(bx - ax > 20 && by === ay, `θ_B right of θ_A on one row: (${ax}, ${ay}) (${bx}, ${by})`);
      const rows = await frame.locator('[data-testid="plane-row"]').evaluateAll((els) => els.map((e) => ({ run: e.getAttribute('data-run') ?? '', phase: e.getAttribute('data-phase'), shares: e.getAttribute('data-shares'), alpha: e.querySelector('[data-key="alpha"]')?.textContent, beta: e.querySelector('[data-key="beta"]')?.textContent, off: e.querySelector('[data-key="off"]')?.textContent })));
      console.log(`plane table: ${JSON.stringify(rows)}`);
      const naiveRows = rows.filter((r) => r.run.endsWith('plane-naive'));
      assert.deepEqual(naiveRows.map((r) => [r.alpha, r.beta, r.off]), [['0.000', '0.000', '0.000'], ['1.000', '0.000', '0.000']], 'the optima at (0,0) and (1,0), in the plane');
      const jointRow = rows.find((r) => r.run.endsWith('plane-joint'))!;
      assert.equal(jointRow.shares, 'init', 'joint training shares only the initialisation');
      assert.equal(jointRow.off, '0.000', 'the third point lies in its plane');
      const [jx, jy] = await at(`${map} [data-testid="plane-end"][data-run$="plane-joint"]`);
      const [cx, cy] = await at(`${map} [data-testid="plane-marker"][data-which="C"] rect`);
      assert.ok(Math.abs(jx - cx) < 0.01 && Math.abs(jy - cy) < 0.01, 'the joint run ends on the third point');
      const files = readdirSync(naiveDir).filter((n) => /^(paths|plane)-/.test(n));
      assert.equal(files.length, 2, `the paths and the plane beside naive's result.json: ${files.join(', ')}`);
      const barriers = await frame.locator('[data-testid^="paths-barrier-"]').allInnerTexts();
      assert.ok(barriers.length >= 4 && barriers.every((b) => /^\d+\.\d{4}$/.test(b)), `barriers as numbers: ${barriers.join(', ')}`);
      console.log(`barriers: ${barriers.join(', ')}`);
      await card.scrollIntoViewIfNeeded();
      await wb.page.mouse.move(1500, 1050);
      await sleep(500);
      console.log(`screenshot: ${await wb.screenshot('compare-plane')}`);
      await wb.expectNoCspViolations('in the compare panel with the plane');
    }));
});
