// The compare view's landscape cards in jsdom: the plane card's choices make the request the host
// validates, progress and cancel, the maps (θ_A, θ_B, the third point and every run's endpoint at
// their plane coordinates, equal units on both axes), the coordinates table with the off-plane
// distances, the paths card's barriers as numbers, a refusal, and a static compare.html with the
// outcome embedded.
import test from 'node:test';
import assert from 'node:assert/strict';
import { setupDom } from './dom';
import { fourStrategies, folder, planeOutcome } from './planeFixture';
import { webviewBundle, bootWebview } from './bundle';
import { createWorkbench } from '../../src/webview/app';
import { fallbackPalette, PUBLICATION_FONT_FAMILY } from '../../src/webview/theme';
import { renderStandaloneHtml } from '../../src/engine/report';
import { PLANE_ELEMENT_ID, readPlaneRequest, type ToPlaneWebviewMessage } from '../../src/protocol/planeMessages';
import type { Comparison } from '../../src/protocol/compare';

function mount(c: Comparison, dark = false) {
  const dom = setupDom();
  (dom.window as unknown as { acquireVsCodeApi: unknown }).acquireVsCodeApi = () => ({});
  const doc = dom.window.document;
  const posted: unknown[] = [];
  const palette = fallbackPalette(dark);
  const wb = createWorkbench(doc.getElementById('app')!, (m) => posted.push(m), { palette, fallbackWidth: 1200 });
  const render = () => wb.render({ state: null, mode: 'compare', canRun: false, comparison: c });
  render();
  const q = (sel: string) => doc.querySelector<HTMLElement>(sel);
  const qa = (sel: string) => [...doc.querySelectorAll<HTMLElement>(sel)];
  const host = (data: ToPlaneWebviewMessage) => dom.window.dispatchEvent(new dom.window.MessageEvent('message', { data }));
  return { dom, doc, posted, palette, q, qa, host, render };
}

const num = (el: Element | null, attr: string) => Number(el?.getAttribute(attr));

test('plane card: the choices make a valid request (runs by id), progress shows, cancel posts', () => {
  const c = fourStrategies();
  const { q, qa, posted, host } = mount(c);
  assert.ok(q('[data-testid="cmp-plane"]'));
  assert.equal(q('[data-testid="cmp-paths"]'), null, 'no paths card before there are paths');
  assert.equal((q('[data-testid="plane-reference"]') as HTMLSelectElement).value, 'Naive-0');
  assert.equal((q('[data-testid="plane-third"]') as HTMLSelectElement).value, 'Joint-0', 'joint training is the default third point');
  assert.deepEqual(qa('[data-testid^="plane-run-"]').map((e) => e.getAttribute('data-testid')), ['plane-run-1', 'plane-run-2', 'plane-run-3']);
  // Leave replay out, train the curve, admit init-only runs.
  const replay = q('[data-testid="plane-run-2"]') as HTMLInputElement;
  replay.checked = false;
  replay.dispatchEvent(new Event('change'));
  for (const id of ['plane-bezier', 'plane-init-only']) {
    const box = q(`[data-testid="${id}"]`) as HTMLInputElement;
    box.checked = true;
    box.dispatchEvent(new Event('change'));
  }
  assert.match(q('[data-testid="cmp-plane"]')!.textContent!, /Runs that ended task 0 elsewhere \(e\.g\. replay/);
  q('[data-testid="plane-compute"]')!.click();
  const sent = posted.at(-1);
  assert.deepEqual(sent, { type: 'planeCompute', reference: 'Naive-0', third: 'Joint-0', runs: ['EWC-0', 'Joint-0'], to: ['EWC-0', 'Joint-0'], bezier: true, allowInitOnly: true });
  assert.deepEqual(readPlaneRequest(sent), sent, 'what the card sends passes the host’s validator unchanged');
  assert.ok(q('[data-testid="plane-compute"]')!.hasAttribute('disabled'), 'one job at a time');
  host({ type: 'planeProgress', stage: 'plane', done: 3, total: 10 });
  assert.match(q('[data-testid="plane-status"]')!.textContent!, /plane: 3 \/ 10/);
  assert.equal(q('[data-testid="plane-status"] [role="progressbar"]')!.getAttribute('aria-valuenow'), '3');
  q('[data-testid="plane-cancel"]')!.click();
  assert.deepEqual(posted.at(-1), { type: 'planeCancel' });
  host({ type: 'planeFinished', status: 'cancelled' });
  assert.match(q('[data-testid="plane-error"]')!.textContent!, /Cancelled: nothing was saved/);
  assert.ok(!q('[data-testid="plane-compute"]')!.hasAttribute('disabled'));
  // Choosing the third point as the reference is not offered.
  const ref = q('[data-testid="plane-reference"]') as HTMLSelectElement;
  ref.value = 'Joint-0';
  ref.dispatchEvent(new Event('change'));
  assert.ok(![...(q('[data-testid="plane-third"]') as HTMLSelectElement).options].some((o) => o.value === 'Joint-0'));
});

test('plane maps: θ_A, θ_B, the third point and every endpoint sit at their plane coordinates (equal units); the table shows off-plane distances', () => {
  const { q, qa, host } = mount(fourStrategies());
  const outcome = planeOutcome();
  host({ type: 'planeFinished', ...outcome });
  const maps = qa('[data-testid="plane-map"]');
  assert.equal(maps.length, 2);
  for (const map of maps) {
    assert.equal(map.querySelectorAll('[data-testid="plane-trajectory"]').length, 4, 'one projected trajectory per run');
    const at = (sel: string) => {
      const el = map.querySelector(sel)!;
      return el.tagName === 'rect' ? [num(el, 'x') + 5, num(el, 'y') + 5] : [num(el, 'cx'), num(el, 'cy')];
    };
    const [ax, ay] = at('[data-testid="plane-marker"][data-which="A"] circle');
    const [bx, by] = at('[data-testid="plane-marker"][data-which="B"] circle');
    const [cx, cy] = at('[data-testid="plane-marker"][data-which="C"] rect');
    const unit = bx - ax;
    assert.ok(unit > 50);
    assert.equal(by, ay);
    assert.ok(Math.abs((cx - ax) / unit - 0.5) < 1e-9 && Math.abs((ay - cy) / unit - 0.8) < 1e-9, 'the third point at (0.5, 0.8), β in the same unit as α');
    const end = (run: string) => at(`[data-testid="plane-end"][data-run="${folder(run)}"]`);
    const [ex, ey] = end('EWC');
    assert.ok(Math.abs((ex - ax) / unit - 0.62) < 1e-9 && Math.abs((ay - ey) / unit - 0.31) < 1e-9);
    assert.deepEqual(end('Naive'), [bx, by], 'the reference ends at θ_B');
    assert.deepEqual(end('Joint'), [cx, cy], 'the third point is the joint run’s end');
    assert.deepEqual(at(`[data-testid="plane-phase-end"][data-run="${folder('Naive')}"][data-phase="0"]`), [ax, ay], 'the reference’s first task ends at θ_A');
  }
  const rows = qa('[data-testid="plane-row"]');
  assert.equal(rows.length, 7, 'one row per run and phase end');
  const row = (run: string, phase: number) => rows.find((r) => r.getAttribute('data-run') === folder(run) && r.getAttribute('data-phase') === String(phase))!;
  const cell = (r: HTMLElement, key: string) => r.querySelector(`[data-key="${key}"]`)!.textContent;
  const ewc = row('EWC', 1);
  assert.deepEqual(['alpha', 'beta', 'off', 'off-relative'].map((k) => cell(ewc, k)), ['0.620', '0.310', '2.100', '17%']);
  assert.equal(cell(ewc, 'shares'), 'θA');
  assert.match(ewc.querySelector('[data-key="shares"]')!.getAttribute('title')!, /θA \(same init and first task\)/);
  assert.equal(cell(row('Replay', 1), 'shares'), 'init only');
  assert.equal(cell(row('Replay', 1), 'off')!, '3.400');
  assert.equal(row('Replay', 1).getAttribute('data-shares'), 'init');
  // The loss at the weights vs at their projection: 0.05 per unit off the plane apart in the fixture.
  const loss = ewc.querySelector('[data-key="loss"]')!;
  assert.ok(Math.abs(Number(loss.getAttribute('data-direct')) - Number(loss.getAttribute('data-in-plane')) - 0.05 * 2.1) < 1e-12);
  assert.match(loss.textContent!, /^\d\.\d{3} \/ \d\.\d{3}$/);
  assert.match(loss.getAttribute('title')!, /MNIST: .* at the weights, .* on the plane/);
  assert.match(q('[data-testid="plane-legend"]')!.textContent!, /Replay · seed 0 \(shares the init only\)/);
  assert.match(q('[data-testid="plane-info"]')!.textContent!, /third point Joint · seed 0 at \(0\.50, 0\.80\)/);
  // The paths card appears with the barriers as numbers.
  assert.ok(q('[data-testid="cmp-paths"]'));
  assert.equal(qa('[data-testid="paths-row"]').length, 3);
  for (const [k, p] of outcome.paths!.paths.entries()) {
    p.barrier.forEach((b, t) => assert.equal(q(`[data-testid="paths-barrier-${k}-${t}"]`)!.textContent, b.toFixed(4)));
    assert.equal(q(`[data-testid="paths-mean-barrier-${k}"]`)!.textContent, p.meanBarrier.toFixed(4));
  }
  assert.deepEqual(qa('[data-testid="paths-row"] .name').map((e) => e.textContent), ['A → B', 'A → Joint · seed 0', 'Bézier A → B']);
  assert.equal(qa('[data-testid="paths-chart-0"] [data-testid="paths-curve"]').length, 3);
  assert.match(q('[data-testid="cmp-paths"]')!.textContent!, /trained 300 steps on tasks MNIST \+ Fashion-MNIST/);
});

test('plane card: a refusal (Restricted Mode) is said; dark theme draws the same marks', () => {
  const { q, qa, host, palette } = mount(fourStrategies(), true);
  host({ type: 'planeFinished', status: 'refused', error: 'Continual Workbench cannot run experiments in Restricted Mode' });
  assert.match(q('[data-testid="plane-error"]')!.textContent!, /Not started: .*Restricted Mode/);
  host({ type: 'planeFinished', ...planeOutcome() });
  assert.equal(qa('[data-testid="plane-map"]').length, 2);
  assert.equal(q('[data-testid="plane-maps"]')!.getAttribute('fill'), palette.foreground, 'text in the theme’s foreground');
  // Marker labels: white on a black halo, legible on any contour colour in either theme.
  const label = q('[data-testid="plane-marker"][data-which="A"] text')!;
  assert.deepEqual([label.getAttribute('fill'), label.getAttribute('stroke'), label.getAttribute('paint-order')], ['#ffffff', '#000000', 'stroke']);
});

test('compare.html with the outcome embedded: the plane and the paths without compute controls', async () => {
  const assets = await webviewBundle();
  const html = renderStandaloneHtml({ title: 'plane', bodyClass: 'clw-report clw-compare', data: [{ id: 'clw-comparison', value: fourStrategies() }, { id: PLANE_ELEMENT_ID, value: planeOutcome() }] }, assets);
  const errors: string[] = [];
  const { dom } = bootWebview(html, errors);
  await new Promise((res) => dom.window.requestAnimationFrame(() => res(null)));
  const doc = dom.window.document;
  assert.deepEqual(errors, []);
  assert.equal(doc.querySelectorAll('[data-testid="plane-map"]').length, 2);
  assert.equal(doc.querySelectorAll('[data-testid="paths-row"]').length, 3);
  assert.ok(doc.querySelector<HTMLElement>('.cmp-plane-controls')!.hidden, 'nothing to compute in a static page');
});

test('the real bundle as a webview: an outcome the host re-sends right after the comparison is drawn; Compute posts to the host', async () => {
  const { js } = await webviewBundle();
  const errors: string[] = [];
  const { dom, posted } = bootWebview(`<!DOCTYPE html><html><head></head><body><main id="app"></main><script>${js}</script></body></html>`, errors);
  const w = dom.window;
  const send = (data: unknown) => w.dispatchEvent(new w.MessageEvent('message', { data }));
  // As the compare panel does on 'ready': the comparison, then the last outcome, in the same turn.
  send({ type: 'comparison', comparison: fourStrategies() });
  send({ type: 'planeFinished', ...planeOutcome() });
  await new Promise((res) => w.requestAnimationFrame(() => res(null)));
  const doc = w.document;
  assert.deepEqual(errors, []);
  assert.equal(doc.querySelectorAll('[data-testid="plane-map"]').length, 2);
  assert.equal(doc.querySelectorAll('[data-testid="paths-row"]').length, 3);
  doc.querySelector<HTMLElement>('[data-testid="plane-compute"]')!.click();
  const sent = posted.find((m) => (m as { type?: string }).type === 'planeCompute');
  assert.ok(sent && readPlaneRequest(sent), 'a valid request reaches the host');
});

test('exports: the plane and the paths as publication SVGs, no colour of the dark theme in them', async () => {
  const { q, posted, host } = mount(fourStrategies(), true);
  host({ type: 'planeFinished', ...planeOutcome() });
  for (const id of ['export-cmp-plane-svg', 'export-cmp-paths-svg']) q(`[data-testid="${id}"]`)!.click();
  await new Promise((r) => setTimeout(r, 10));
  const svgs = posted.filter((m): m is { type: 'export'; format: string; name: string; content: string } => (m as { type?: string }).type === 'export');
  assert.deepEqual(svgs.map((m) => m.name), ['four-strategies-plane.svg', 'four-strategies-paths.svg']);
  const dark = fallbackPalette(true);
  for (const m of svgs) {
    for (const c of [dark.background, dark.foreground, dark.muted, dark.border]) assert.ok(!m.content.toLowerCase().includes(c.toLowerCase()), `${m.name}: no ${c} from the dark theme`);
    assert.ok(m.content.includes(`font-family="${PUBLICATION_FONT_FAMILY.replace(/"/g, '&quot;')}"`), `${m.name}: font declared`);
  }
  assert.equal(svgs[0].content.match(/data-testid="plane-map"/g)?.length, 2);
  assert.equal(svgs[1].content.match(/data-testid="paths-curve"/g)?.length, 6);
});
