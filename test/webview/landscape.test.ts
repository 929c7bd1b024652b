import test from 'node:test';
import assert from 'node:assert/strict';
import { ALPHAS, BETAS, sampleLandscape, setupDom } from './dom';
import {
  createLandscapeView,
  finiteQuantile,
  gridGeometry,
  landscapeLayout,
  landscapeScale,
  logThresholds,
  nearestGridPoint,
  paddedContourGrid,
  plotCrossings,
  trajectorySegments,
} from '../../src/webview/charts/landscape';
import { fallbackPalette } from '../../src/webview/theme';

const close = (a: number, b: number, eps = 1e-9) => Math.abs(a - b) <= eps * Math.max(1, Math.abs(a), Math.abs(b));

test('log-spaced thresholds: constant ratio, both ends included', () => {
  const t = logThresholds(0.05, 5, 5);
  assert.equal(t.length, 5);
  assert.equal(t[0], 0.05);
  assert.equal(t[4], 5);
  for (let k = 1; k < t.length; k++) assert.ok(close(t[k] / t[k - 1], Math.sqrt(10)), `ratio at ${k}`);
  assert.deepEqual(logThresholds(0, 5, 5), [0], 'no log scale through zero');
});

test('loss scale: shared by all tasks, maxima clipped at a high quantile', () => {
  const land = sampleLandscape();
  const s = landscapeScale(land, 'loss', { levels: 8, clipQuantile: 0.95 });
  const all = land.grids.flatMap((g) => g.loss.flat());
  assert.equal(s.lo, Math.min(...all), 'starts at the lowest loss of any task');
  assert.ok(close(s.hi, finiteQuantile(all, 0.95)));
  assert.ok(s.hi < 500, 'the 500 outlier does not stretch the scale');
  assert.equal(s.clipped, true);
  assert.equal(s.thresholds.length, 8);
  assert.ok(s.clip(500) < 500 && s.clip(500) > s.hi, 'outlier capped just above the top level');
  assert.ok(s.clip(Number.NaN) > s.hi, 'non-finite values are drawn as the worst');
  assert.equal(s.position(s.lo), 0);
  assert.equal(s.position(1e9), 1);
  assert.equal(s.color(s.lo), s.color(0), 'below lo is lo');
  assert.notEqual(s.color(s.lo), s.color(s.hi));
  const acc = landscapeScale(land, 'accuracy');
  assert.equal(acc.thresholds[0], 0);
  assert.equal(acc.position(1), 0, 'high accuracy is the good end, like low loss');
  assert.equal(acc.color(1), s.color(s.lo));
});

test('padded contour grid repeats the edges and is row-major by beta', () => {
  const s = landscapeScale({ grids: [{ task: 0, loss: [[1, 2], [3, 4]], accuracy: [[0, 0], [0, 0]] }] }, 'loss', { clipQuantile: 1 });
  const { values, nx, ny } = paddedContourGrid([[1, 2], [3, 4]], s, 1);
  assert.equal(nx, 4);
  assert.equal(ny, 4);
  assert.deepEqual(values, [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
});

test('grid geometry: equal units on both axes, cells centred on coordinates, nearest grid point', () => {
  const g = gridGeometry(ALPHAS, BETAS, { left: 10, top: 20, maxWidth: 250, maxHeight: 400 });
  // extent alpha [-0.75, 1.75], beta [-1.25, 1.25]: 2.5 units each; the width limits: 100 px/unit.
  assert.equal(g.width, 250);
  assert.equal(g.height, 250);
  assert.equal(g.x(0), 10 + 75);
  assert.equal(g.x(1), 10 + 175);
  assert.equal(g.y(0), 20 + 125);
  assert.equal(g.y(1), 20 + 25, 'beta grows upwards');
  assert.ok(close(g.alphaAt(g.x(0.3)), 0.3));
  assert.ok(close(g.betaAt(g.y(-0.7)), -0.7));
  // d3-contour puts grid value i at i + 0.5; with one cell of padding at i + 1.5.
  assert.equal(g.alphaOfContour(0.5), -0.5);
  assert.equal(g.alphaOfContour(1.5, 1), -0.5);
  assert.equal(g.betaOfContour(4.5), 1);
  assert.deepEqual(nearestGridPoint(ALPHAS, BETAS, 0.2, -0.3), { ai: 1, bi: 1 });
  assert.deepEqual(nearestGridPoint(ALPHAS, BETAS, 0.3, 0.9), { ai: 2, bi: 4 });
  assert.deepEqual(nearestGridPoint(ALPHAS, BETAS, 99, -99), { ai: 4, bi: 0 });
});

test('trajectory segments: split by task, continuous', () => {
  const segs = trajectorySegments(sampleLandscape().trajectory);
  assert.deepEqual(segs.map((s) => [s.task, s.points.map((p) => p.step)]), [
    [0, [0, 100, 200]],
    [1, [200, 300, 400]],
  ]);
  assert.deepEqual(trajectorySegments([]), []);
});

test('view: one contour map per task, optima at (0,0) and (1,0) in pixels, trajectory, line chart', () => {
  const dom = setupDom();
  const doc = dom.window.document;
  const el = doc.getElementById('app')!;
  const view = createLandscapeView(el);
  const p = fallbackPalette(false);
  const land = sampleLandscape();
  view.update({ landscape: land, labels: ['MNIST', 'Fashion-MNIST'], palette: p, width: 900, placeholder: '', progress: null });
  const root = el.querySelector('[data-testid="landscape"]')!;
  const maps = [...root.querySelectorAll('[data-testid="landscape-map"]')];
  assert.deepEqual(maps.map((m) => m.getAttribute('data-task')), ['0', '1']);
  const L = landscapeLayout(900, 2, p.fontSize);
  const span = 2.5; // alpha extent -0.75..1.75, beta -1.25..1.25
  maps.forEach((m, k) => {
    const contours = m.querySelectorAll('path.contour');
    assert.ok(contours.length >= 5, `map ${k} has filled contours`);
    for (const c of contours) assert.ok(c.getAttribute('fill')?.startsWith('#') || c.getAttribute('fill')?.startsWith('rgb'));
    const a = m.querySelector('[data-testid="optimum"][data-which="A"]')!;
    const b = m.querySelector('[data-testid="optimum"][data-which="B"]')!;
    const px = (alpha: number) => L.mapLeft[k] + ((alpha + 0.75) / span) * L.mapSize;
    const py = (beta: number) => L.mapTop[k] + ((1.25 - beta) / span) * L.mapSize;
    assert.ok(close(Number(a.getAttribute('cx')), px(0), 1e-6), `theta_A x on map ${k}`);
    assert.ok(close(Number(a.getAttribute('cy')), py(0), 1e-6), `theta_A y on map ${k}`);
    assert.ok(close(Number(b.getAttribute('cx')), px(1), 1e-6), `theta_B x on map ${k}`);
    assert.equal(a.getAttribute('data-task'), '0');
    assert.equal(b.getAttribute('data-task'), '1');
    assert.match(a.parentElement!.textContent!, /θA after MNIST/);
    assert.match(b.parentElement!.textContent!, /θB after Fashion-MNIST/);
    assert.deepEqual([...m.querySelectorAll('[data-testid="trajectory"]')].map((t) => t.getAttribute('data-task')), ['0', '1']);
  });
  // The same colour scale on both maps: equal thresholds give equal fills.
  const fills = (m: Element) => new Map([...m.querySelectorAll('path.contour')].map((c) => [c.getAttribute('data-value'), c.getAttribute('fill')]));
  const f0 = fills(maps[0]);
  for (const [v, f] of fills(maps[1])) if (f0.has(v)) assert.equal(f0.get(v), f);
  const line = root.querySelector('[data-testid="landscape-line"]')!;
  assert.deepEqual([...line.querySelectorAll('path[data-task]')].map((x) => x.getAttribute('data-task')), ['0', '1']);
  assert.match(root.querySelector('[data-testid="landscape-info"]')!.textContent!, /θB − θA\| = 12\.5.*explained variance 81\.0%/);

  // Accuracy toggle redraws with the accuracy scale.
  (root.querySelector('[data-testid="landscape-metric-accuracy"]') as HTMLElement).click();
  assert.equal(view.metric(), 'accuracy');
  assert.match(root.querySelector('.colorbar')!.textContent!, /accuracy/);
  const exported = view.exportSvgs();
  assert.ok(exported.maps && exported.line);
  assert.equal(exported.maps!.querySelectorAll('.overlay, .crosshair').length, 0);
  view.dispose();
});

test('plot crossings: entries and exits of a polyline on the box edge, in order', () => {
  const box = { left: 0, top: 0, width: 100, height: 100 };
  // Starts below the box, comes in through the bottom, leaves through the right, comes back in.
  const c = plotCrossings([{ x: 50, y: 150 }, { x: 50, y: 50 }, { x: 150, y: 50 }, { x: 50, y: 60 }], box);
  assert.deepEqual(c.map((k) => [k.kind, k.x, k.y, k.from]), [
    ['enter', 50, 100, 0],
    ['exit', 100, 50, 1],
    ['enter', 100, 55, 2],
  ]);
  assert.ok(close(c[0].angle, -Math.PI / 2), 'entering upwards (pixel y down)');
  // Straight through: in and out on one segment.
  assert.deepEqual(plotCrossings([{ x: -10, y: 50 }, { x: 110, y: 50 }], box).map((k) => [k.kind, k.x]), [['enter', 0], ['exit', 100]]);
  assert.deepEqual(plotCrossings([{ x: 10, y: 10 }, { x: 90, y: 90 }], box), [], 'inside: nothing');
  assert.deepEqual(plotCrossings([{ x: -10, y: -10 }, { x: -5, y: 200 }], box), [], 'outside: nothing');
});

test('view: trajectory from outside the range is clipped to the plot box and its entry marked; optima unclipped', () => {
  const dom = setupDom();
  const doc = dom.window.document;
  const el = doc.getElementById('app')!;
  const view = createLandscapeView(el);
  const other = createLandscapeView(el);
  const p = fallbackPalette(true);
  const land = sampleLandscape();
  // Random init far below the grid (beta range -1.25..1.25), like a real run.
  land.trajectory[0] = { step: 0, task: -1, alpha: -0.6, beta: -1.4 };
  const data = { landscape: land, labels: ['MNIST', 'Fashion-MNIST'], palette: p, width: 900, placeholder: '', progress: null };
  view.update(data);
  other.update(data);
  const [svg, svg2] = [...el.querySelectorAll('svg[data-testid="landscape-maps"]')];
  const L = landscapeLayout(900, 2, p.fontSize);
  const span = 2.5;
  const ids: string[] = [];
  const clipOf = (e: Element) => /^url\(#([^)]+)\)$/.exec(e.getAttribute('clip-path') ?? '')?.[1];
  const clippedAncestor = (e: Element | null): boolean => !!e && e !== svg && (e.hasAttribute('clip-path') || clippedAncestor(e.parentElement));
  [...svg.querySelectorAll('[data-testid="landscape-map"]')].forEach((m, k) => {
    const traj = m.querySelector('g.trajectory')!;
    const id = clipOf(traj);
    assert.ok(id, `map ${k}: trajectory clipped`);
    ids.push(id!);
    for (const seg of traj.querySelectorAll('[data-testid="trajectory"], path.halo, .trajectory-start')) assert.ok(clippedAncestor(seg));
    const rect = svg.querySelector(`clipPath[id="${id}"] rect`)!;
    assert.ok(rect, 'the clipPath is inside the chart svg');
    assert.deepEqual(['x', 'y', 'width', 'height'].map((a) => Number(rect.getAttribute(a))), [L.mapLeft[k], L.mapTop[k], L.mapSize, L.mapSize], 'clip = plot box');
    assert.equal(clipOf(m.querySelector('g.contours')!), id, 'contours share the clip');
    // The optima and their labels stay unclipped (theta_B may sit near the edge).
    for (const o of m.querySelectorAll('.optimum, .optimum *')) assert.equal(clippedAncestor(o), false);
    // Entry marked where the line crosses the bottom edge: (-0.6,-1.4) -> (-0.1,0.2) meets beta = -1.25 at alpha = -0.553125.
    const enter = [...m.querySelectorAll('[data-testid="trajectory-enter"]')];
    assert.equal(enter.length, 1);
    assert.equal(clippedAncestor(enter[0]), false, 'the marker on the edge is not clipped');
    const [, tx, ty] = /translate\(([-\d.e]+),([-\d.e]+)\)/.exec(enter[0].getAttribute('transform')!)!.map(Number);
    assert.ok(close(tx, L.mapLeft[k] + ((-0.553125 + 0.75) / span) * L.mapSize, 1e-6), `entry x on map ${k}`);
    assert.ok(close(ty, L.mapTop[k] + L.mapSize, 1e-6), `entry y on the bottom edge of map ${k}`);
    assert.equal(enter[0].getAttribute('data-task'), '0');
    assert.match(enter[0].querySelector('title')!.textContent!, /random-init checkpoint \(α -0\.60, β -1\.40\)/);
    const label = m.querySelector('[data-testid="trajectory-from-init"]')!;
    assert.match(label.textContent!, /^from init/);
    const lx = Number(label.getAttribute('x'));
    const ly = Number(label.getAttribute('y'));
    assert.ok(lx >= L.mapLeft[k] && lx <= L.mapLeft[k] + L.mapSize && ly >= L.mapTop[k] && ly <= L.mapTop[k] + L.mapSize, 'label inside the plot box');
    assert.equal(m.querySelectorAll('[data-testid="trajectory-exit"]').length, 0);
  });
  const ids2 = [...svg2.querySelectorAll('clipPath')].map((c) => c.id);
  assert.equal(new Set([...ids, ...ids2]).size, 4, 'clip ids unique per map and per view');

  // The export carries its own clipPath (renders standalone).
  const exported = view.exportSvgs().maps!;
  for (const t of exported.querySelectorAll('g.trajectory')) assert.ok(exported.querySelector(`clipPath[id="${clipOf(t)}"]`));

  // A trajectory inside the range gets no edge markers.
  view.update({ ...data, landscape: sampleLandscape() });
  assert.equal(svg.querySelectorAll('[data-testid="trajectory-enter"], [data-testid="trajectory-exit"], [data-testid="trajectory-from-init"]').length, 0);
  view.dispose();
  other.dispose();
});

test('view: placeholder with progress while there is no landscape', () => {
  const dom = setupDom();
  const el = dom.window.document.getElementById('app')!;
  const view = createLandscapeView(el);
  view.update({ landscape: null, labels: ['MNIST', 'Fashion-MNIST'], palette: fallbackPalette(true), width: 900, placeholder: 'Computed after the last task.', progress: { done: 21, total: 441, phase: 'grid' } });
  const root = el.querySelector('[data-testid="landscape"]')!;
  assert.match(root.textContent!, /Computed after the last task\./);
  assert.match(root.textContent!, /grid: 21 \/ 441/);
  assert.equal(root.querySelectorAll('[data-testid="landscape-map"]').length, 0);
});
