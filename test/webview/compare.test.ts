// The compare layout in jsdom, from a Comparison built by hand (2 groups × 3 seeds, one failed):
// every matrix cell's text from the runs' values, the difference B − A, sorting, log axes, bands,
// exports in publication style, the host message and compare.html's embedded block.
import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { build } from 'esbuild';
import { JSDOM, VirtualConsole } from 'jsdom';
import { setupDom } from './dom';
import { stat, sweepSeries, twoGroups } from './comparison';
import { createWorkbench } from '../../src/webview/app';
import { createPanelController } from '../../src/webview/controller';
import { fallbackPalette, PUBLICATION_FONT_FAMILY } from '../../src/webview/theme';
import { formatPercent, formatPoints } from '../../src/protocol/format';
import { renderReportHtml } from '../../src/engine/report';
import { sampleResult } from './dom';
import type { Comparison } from '../../src/protocol/compare';
import type { FromWebviewMessage } from '../../src/protocol/webview';

function mount(c: Comparison, dark = false) {
  const dom = setupDom();
  const doc = dom.window.document;
  const posted: FromWebviewMessage[] = [];
  const palette = fallbackPalette(dark);
  const wb = createWorkbench(doc.getElementById('app')!, (m) => posted.push(m as FromWebviewMessage), { palette, fallbackWidth: 1200 });
  wb.render({ state: null, mode: 'compare', canRun: false, comparison: c });
  const q = (sel: string) => doc.querySelector<HTMLElement>(sel);
  const qa = (sel: string) => [...doc.querySelectorAll<HTMLElement>(sel)];
  return { dom, doc, wb, posted, palette, q, qa };
}

const pct = (v: { mean: number | null; sem: number | null }) => (v.sem === null ? formatPercent(v.mean) : `${formatPercent(v.mean)} ± ${formatPercent(v.sem)}`);

test('R matrices: every group cell is mean ± SEM of its completed seeds, every run cell its value', () => {
  const c = twoGroups();
  const { q, qa } = mount(c);
  assert.ok(q('[data-testid="compare"]'));
  assert.equal(q('[data-testid="cmp-title"]')!.textContent, 'Naive vs EWC');
  assert.match(q('[data-testid="cmp-notes"]')!.textContent!, /Excluded: EWC · seed 2 \(failed: out of memory\)/);
  const groups = [
    [0, 1, 2],
    [3, 4],
  ];
  let cells = 0;
  groups.forEach((members, g) => {
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 2; j++) {
        const expected = stat(members.map((r) => c.runs[r].accuracyMatrix[i][j]));
        const cell = q(`[data-testid="cmp-cell-${g}-${i}-${j}"]`)!;
        assert.equal(cell.textContent, pct(expected), `group ${g} R[${i}][${j}]`);
        assert.equal(cell.getAttribute('data-level'), 'group');
        assert.equal(Number(cell.getAttribute('data-mean')), expected.mean);
        assert.equal(Number(cell.getAttribute('data-n')), members.length);
        cells++;
      }
  });
  assert.equal(qa('[data-testid^="cmp-cell-"]').length, cells);
  assert.match(q('[data-testid="cmp-cell-1-0-0"]')!.textContent!, / ± /);
  // The description in the charts' tooltip (as in the run's heatmap), not a plain title.
  const first = q('[data-testid="cmp-cell-1-1-0"]')!;
  assert.equal(first.hasAttribute('title'), false);
  assert.match(first.getAttribute('data-tip')!, /^EWC: after Fashion-MNIST, on MNIST: [\d.]+% ± [\d.]+, n = 2$/);

  // Runs: one matrix per run, the failed one with its single row and struck out.
  (q('[data-testid="cmp-level-run"]') as HTMLElement).click();
  assert.equal(qa('[data-testid^="cmp-matrix-"]').length, 6);
  c.runs.forEach((r, k) =>
    r.accuracyMatrix.forEach((row, i) =>
      row.forEach((v, j) => {
        const cell = q(`[data-testid="cmp-cell-${k}-${i}-${j}"]`)!;
        assert.equal(cell.textContent, formatPercent(v), `run ${k} R[${i}][${j}]`);
        assert.equal(cell.getAttribute('data-level'), 'run');
      }),
    ),
  );
  assert.equal(q('[data-testid="cmp-matrix-5"]')!.classList.contains('excluded'), true);
  assert.equal(q('[data-testid="cmp-cell-5-1-0"]')!.textContent, '—', 'the failed run never finished task 1');
});

test('difference B − A: second minus first, pickers and swap', () => {
  const c = twoGroups();
  const { q, qa } = mount(c);
  const diff = q('[data-testid="cmp-diff"]')!;
  assert.match(diff.querySelector('caption')!.textContent!, /B − A: EWC − Naive/);
  const check = (a: number[], b: number[], sign: number) => {
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 2; j++) {
        const d = stat(b.map((r) => c.runs[r].accuracyMatrix[i][j])).mean! - stat(a.map((r) => c.runs[r].accuracyMatrix[i][j])).mean!;
        const cell = q(`[data-testid="cmp-diff-cell-${i}-${j}"]`)!;
        assert.equal(cell.textContent, formatPoints(d, true), `B − A at ${i},${j}`);
        assert.ok(Math.abs(Number(cell.getAttribute('data-value')) - d) < 1e-12);
        if (i === 1 && j === 0) assert.equal(Math.sign(d), sign, 'EWC forgets less than naive');
      }
  };
  check([0, 1, 2], [3, 4], 1);
  // Forgetting reduced: the cell after task 1 on task 0 is coloured differently from a loss.
  const gain = q('[data-testid="cmp-diff-cell-1-0"]')!.style.backgroundColor;
  (q('[data-testid="cmp-diff-swap"]') as HTMLElement).click();
  check([3, 4], [0, 1, 2], -1);
  assert.notEqual(q('[data-testid="cmp-diff-cell-1-0"]')!.style.backgroundColor, gain, 'gain and loss in different hues');
  const a = q('[data-testid="cmp-diff-a"]') as HTMLSelectElement;
  assert.deepEqual(
    [...a.options].map((o) => o.textContent),
    ['Naive', 'EWC'],
  );
  assert.equal(qa('[data-testid="cmp-diff"]').length, 1);
  assert.match(q('[data-testid="cmp-diff-legend"]')!.textContent!, /B higher/);
});

test('metrics table: rows per group and run, excluded run struck out with its reason, sorting by a header', () => {
  const c = twoGroups();
  const { q, qa } = mount(c);
  const keys = () => qa('[data-testid="cmp-metrics"] tbody tr').map((tr) => tr.getAttribute('data-testid'));
  assert.deepEqual(keys(), ['cmp-row-group-0', 'cmp-row-run-0', 'cmp-row-run-1', 'cmp-row-run-2', 'cmp-row-group-1', 'cmp-row-run-3', 'cmp-row-run-4', 'cmp-row-run-5']);
  const ewcAcc = stat([c.runs[3].metrics.acc, c.runs[4].metrics.acc]);
  const acc = (row: string) => q(`[data-testid="${row}"] td[data-col="acc"]`)!.textContent;
  assert.equal(acc('cmp-row-group-1'), pct(ewcAcc));
  assert.equal(acc('cmp-row-run-3'), formatPercent(c.runs[3].metrics.acc));
  const bwt = stat([0, 1, 2].map((k) => c.runs[k].metrics.bwt));
  assert.equal(q('[data-testid="cmp-row-group-0"] td[data-col="bwt"]')!.textContent, `${formatPoints(bwt.mean, true)} ± ${formatPercent(bwt.sem)}`);
  const failed = q('[data-testid="cmp-row-run-5"]')!;
  assert.ok(failed.classList.contains('excluded'));
  assert.equal(failed.querySelector('s')!.textContent, 'EWC · seed 2');
  assert.match(failed.textContent!, /excluded: failed: out of memory/);

  (q('[data-testid="cmp-sort-acc"]') as HTMLElement).click();
  assert.equal(q('th[aria-sort="descending"] [data-testid="cmp-sort-acc"]')?.textContent, 'ACC ▼');
  const desc = keys();
  assert.equal(desc[0], 'cmp-row-group-1', 'EWC (higher ACC) first');
  assert.equal(desc[3], 'cmp-row-run-5', 'the excluded run last in its group');
  (q('[data-testid="cmp-sort-acc"]') as HTMLElement).click();
  const asc = keys();
  assert.equal(asc[0], 'cmp-row-group-0');
  const naiveAsc = [0, 1, 2].sort((x, y) => c.runs[x].metrics.acc! - c.runs[y].metrics.acc!).map((k) => `cmp-row-run-${k}`);
  assert.deepEqual(asc.slice(1, 4), naiveAsc);
});

test('curves: one chart per task, a band per group with a SEM, none for a single seed or per run', () => {
  const c = twoGroups();
  const { q, qa } = mount(c);
  assert.equal(qa('[data-testid^="cmp-curves-"]').filter((e) => /cmp-curves-\d$/.test(e.getAttribute('data-testid')!)).length, 2);
  const chart = q('[data-testid="cmp-curves-0"]')!;
  assert.equal(chart.querySelectorAll('path[data-testid="cmp-curve"]').length, 2);
  assert.equal(chart.querySelectorAll('path[data-testid="band"]').length, 2, 'both groups have ≥ 2 seeds');
  const band = chart.querySelector('path[data-testid="band"]')!;
  assert.equal(band.getAttribute('fill'), chart.querySelector('path[data-testid="cmp-curve"]')!.getAttribute('stroke'), 'band in its line’s colour');

  // One seed in the second group: its line has no band.
  const one = twoGroups();
  one.runs = one.runs.slice(0, 4);
  one.groups[1] = { ...one.groups[1], members: [3], included: [3], curves: one.runs[3].curves.map((p) => ({ step: p.step, accuracy: p.accuracy.map((v) => stat([v])) })) };
  const m = mount(one);
  const bands = m.qa('[data-testid="cmp-curves-0"] path[data-testid="band"]');
  assert.deepEqual(bands.map((b) => b.getAttribute('data-series')), ['Naive']);
  (m.q('[data-testid="cmp-level-run"]') as HTMLElement).click();
  assert.equal(m.qa('[data-testid="cmp-curves-0"] path[data-testid="band"]').length, 0, 'single runs: no bands');
  assert.equal(m.qa('[data-testid="cmp-curves-0"] path[data-testid="cmp-curve"]').length, 4);
});

test('sweep: a decade-spanning hyperparameter on a log axis with error bars; a narrow one linear', () => {
  const c = twoGroups();
  c.sweepSeries = [sweepSeries('training.learningRate', [0.0001, 0.001, 0.01], true, [3, 3, 1]), sweepSeries('training.batchSize', [32, 64, 128], false, [2, 2, 2])];
  const { q } = mount(c);
  const lr = q('[data-testid="cmp-sweep-training.learningRate"]')!;
  const axis = lr.querySelector('.axis.x')!;
  assert.equal(axis.getAttribute('data-scale'), 'log');
  const tick = (v: string) => {
    const t = axis.querySelector(`.tick[data-value="${v}"]`)!;
    return Number(/translate\(([-\d.]+)/.exec(t.getAttribute('transform')!)![1]);
  };
  assert.ok(Math.abs(tick('0.001') - tick('0.0001') - (tick('0.01') - tick('0.001'))) < 1e-6, 'each decade the same width');
  assert.match(lr.querySelector('.axis-label')!.textContent!, /log scale/);
  assert.equal(lr.querySelectorAll('[data-testid="error-bar"]').length, 2, 'error bars where n ≥ 2, none for the one-seed point');
  const bs = q('[data-testid="cmp-sweep-training.batchSize"]')!;
  assert.equal(bs.querySelector('.axis.x')!.getAttribute('data-scale'), 'linear');
  assert.equal(bs.querySelectorAll('[data-testid="error-bar"]').length, 3);
});

test('exports: publication SVGs declare their font and carry no theme colour; the table as CSV', async () => {
  const c = twoGroups();
  c.sweepSeries = [sweepSeries('strategy.lambda', [10, 100, 1000], true, [2, 2, 2])];
  const { q, posted } = mount(c, true);
  const dark = fallbackPalette(true);
  for (const id of ['export-cmp-matrices-svg', 'export-cmp-diff-svg', 'export-cmp-curves-svg', 'export-cmp-sweep-svg']) (q(`[data-testid="${id}"]`) as HTMLElement).click();
  await new Promise((r) => setTimeout(r, 10));
  const svgs = posted.filter((m): m is Extract<FromWebviewMessage, { type: 'export' }> => m.type === 'export' && m.format === 'svg');
  assert.deepEqual(
    svgs.map((m) => m.name),
    ['naive-vs-ewc-accuracy-matrices-groups.svg', 'naive-vs-ewc-accuracy-difference.svg', 'naive-vs-ewc-curves-groups.svg', 'naive-vs-ewc-sweep-acc.svg'],
  );
  for (const m of svgs) {
    assert.doesNotMatch(m.content, /var\(|currentColor/, `${m.name}: concrete colours only`);
    for (const themeColour of [dark.background, dark.foreground, dark.muted, dark.border]) assert.ok(!m.content.toLowerCase().includes(themeColour.toLowerCase()), `${m.name}: no ${themeColour} from the dark theme`);
    assert.ok(m.content.includes(`font-family="${PUBLICATION_FONT_FAMILY.replace(/"/g, '&quot;')}"`), `${m.name}: font declared`);
    assert.match(m.content, /<rect width="100%" height="100%" fill="#ffffff"/);
    assert.match(m.content, /class="figure-title"/);
  }
  // Matrices export: the group cells' texts.
  assert.ok(svgs[0].content.includes(pct(stat([0, 1, 2].map((k) => c.runs[k].accuracyMatrix[1][0])))));
  (q('[data-testid="export-cmp-metrics-csv"]') as HTMLElement).click();
  const csv = posted.find((m) => m.type === 'export' && m.format === 'csv') as Extract<FromWebviewMessage, { type: 'export' }>;
  assert.equal(csv.name, 'naive-vs-ewc-metrics.csv');
  assert.equal(csv.content.trim().split('\r\n').length, 1 + 8);
});

test('controller: a comparison message switches the panel to the compare layout and back', () => {
  const c = twoGroups();
  const dom = setupDom();
  const doc = dom.window.document;
  const wb = createWorkbench(doc.getElementById('app')!, () => {}, { palette: fallbackPalette(false), fallbackWidth: 1000 });
  let saved: unknown;
  const ctl = createPanelController({ render: (v) => wb.render(v), schedule: (cb) => cb(), persist: { getState: () => saved, setState: (s) => (saved = s) } });
  ctl.handleMessage({ type: 'comparison', comparison: c });
  assert.equal(ctl.view().mode, 'compare');
  assert.equal(doc.querySelectorAll('[data-testid^="cmp-cell-"]').length, 8);
  assert.ok((saved as { view: { comparison?: Comparison } }).view.comparison, 'kept for restore');
  const r = sampleResult();
  ctl.handleMessage({ type: 'snapshot', state: { result: r, progress: null, landscapeProgress: null, logs: [] }, mode: 'saved', canRun: false });
  assert.equal(doc.querySelector<HTMLElement>('[data-testid="compare"]')!.hidden, true);
  assert.equal(doc.querySelectorAll('[data-testid="heatmap-cell"]').length, 4);
});

test('compare.html: the bundle renders the embedded comparison', async () => {
  const r = await build({ entryPoints: [join(__dirname, '..', '..', 'src', 'webview', 'main.ts')], bundle: true, write: false, outdir: '/virtual', platform: 'browser', format: 'iife', target: 'es2022', loader: { '.css': 'css' }, logLevel: 'silent' });
  const assets = { js: r.outputFiles.find((f) => f.path.endsWith('.js'))!.text, css: r.outputFiles.find((f) => f.path.endsWith('.css'))!.text };
  const c = twoGroups();
  const html = renderReportHtml(sampleResult(), assets).replace(/<script type="application\/json" id="clw-result">[^<]*<\/script>/, () => `<script type="application/json" id="clw-comparison">${JSON.stringify(c).replace(/</g, '\\u003c')}</script>`);
  const errors: string[] = [];
  const vc = new VirtualConsole();
  vc.on('error', (m) => errors.push(String(m)));
  vc.on('jsdomError', (e) => errors.push(e.message));
  const dom = new JSDOM(html, {
    runScripts: 'dangerously',
    pretendToBeVisual: true,
    virtualConsole: vc,
    beforeParse(w) {
      const EI = (w as unknown as { ElementInternals?: { prototype: Record<string, unknown> } }).ElementInternals;
      if (EI && typeof EI.prototype.setFormValue !== 'function') EI.prototype.setFormValue = () => {};
    },
  });
  await new Promise((res) => dom.window.requestAnimationFrame(() => res(null)));
  const doc = dom.window.document;
  assert.deepEqual(errors, []);
  assert.equal(doc.querySelector('[data-testid="cmp-title"]')?.textContent, 'Naive vs EWC');
  assert.equal(doc.querySelector('[data-testid="cmp-cell-0-1-0"]')?.textContent, pct(stat([0, 1, 2].map((k) => c.runs[k].accuracyMatrix[1][0]))));
  assert.equal(doc.querySelector('[data-testid="run-status"]'), null, 'no run header');
  dom.window.close();
});
