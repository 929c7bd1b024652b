// The compare view's plane and paths cards, their maths without a DOM: which compared run a job's
// folder is, colours, pixels of projected points (clamped to the map edge), table rows and barriers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  barrierRows,
  compareIndexOf,
  drawnFolders,
  folderOfResult,
  maxBarrier,
  meanOf,
  pathLossDomain,
  pathLossSeries,
  placeOnMap,
  planeMarkers,
  projectedPolyline,
  projectionRows,
  relativeText,
  runColorIndices,
  runColorMap,
  sharesText,
  tableNumber,
  type PlaneRunInfo,
} from '../../src/webview/charts/planeMap';
import type { MultiRunPlaneResult, PathsResult } from '../../src/protocol/landscape';

const runs: PlaneRunInfo[] = [
  { id: 'naive', label: 'Naive · seed 0', resultFile: '/w/naive/result.json', group: 0 },
  { id: 'ewc', label: 'EWC · seed 0', resultFile: '/w/ewc/result.json', group: 1 },
  { id: 'ewc1', label: 'EWC · seed 1', resultFile: '/w/ewc1/result.json', group: 1 },
  { id: 'joint', label: 'Joint', resultFile: 'C:\\w\\joint\\result.json', group: 2 },
];

test('a job folder is the compared run whose result file it holds (either separator, trailing slash)', () => {
  assert.equal(folderOfResult('/w/naive/result.json'), '/w/naive');
  assert.equal(compareIndexOf('/w/naive', runs), 0);
  assert.equal(compareIndexOf('/w/ewc/', runs), 1);
  assert.equal(compareIndexOf('C:/w/joint', runs), 3);
  assert.equal(compareIndexOf('C:\\w\\joint', runs), 3);
  assert.equal(compareIndexOf('/w/elsewhere', runs), -1);
});

test('colours: the group’s when the drawn runs are in different groups, else one per position', () => {
  assert.deepEqual(runColorIndices([0, 1, 2]), [0, 1, 2]);
  assert.deepEqual(runColorIndices([0, 1, 1]), [0, 1, 2]);
  const m = runColorMap(['/w/naive', 'C:\\w\\joint', '/w/ewc'], runs);
  assert.deepEqual([...m.values()], [0, 2, 1]);
  assert.equal(m.get('C:/w/joint'), 2);
  // Two seeds of one group drawn together: distinct colours; an unknown folder gets its position.
  assert.deepEqual([...runColorMap(['/w/naive', '/w/ewc', '/w/ewc1', '/w/x'], runs).values()], [0, 1, 2, 3]);
});

test('projected points: pixels of (α, β), non-finite ones dropped; a point off the map is clamped onto its edge towards it', () => {
  const x = (a: number) => 100 + 200 * a;
  const y = (b: number) => 300 - 200 * b;
  assert.deepEqual(projectedPolyline([{ alpha: 0, beta: 0 }, { alpha: NaN, beta: 1 }, { alpha: 1, beta: 0.5 }], x, y), [{ x: 100, y: 300 }, { x: 300, y: 200 }]);
  const box = { left: 0, top: 0, width: 400, height: 200 };
  const inside = placeOnMap({ x: 10, y: 190 }, box);
  assert.equal(inside.inside, true);
  assert.deepEqual([inside.x, inside.y], [10, 190]);
  // Right of the box, level with the centre: onto the right edge, pointing right (angle 0).
  const right = placeOnMap({ x: 900, y: 100 }, box);
  assert.deepEqual([right.inside, right.x, right.y, right.angle], [false, 400, 100, 0]);
  // Far up-left along the diagonal through the centre (200, 100): hits the top edge at x = 100.
  const up = placeOnMap({ x: -200, y: -100 }, box);
  assert.equal(up.inside, false);
  assert.ok(Math.abs(up.y - 0) < 1e-9 && Math.abs(up.x - 0) < 1e-9, `${up.x},${up.y}`);
  const above = placeOnMap({ x: 200, y: -50 }, box);
  assert.deepEqual([above.x, above.y], [200, 0]);
  assert.ok(Math.abs(above.angle + Math.PI / 2) < 1e-12);
});

const plane = {
  points: [
    { run: '/w/naive', phase: 0, label: 'A' },
    { run: '/w/naive', phase: 1, label: 'B' },
    { run: 'C:\\w\\joint', phase: 0, label: 'joint' },
  ],
  third: { alpha: 0.4, beta: 0.9 },
  runs: [
    { run: '/w/naive', label: 'naive', shares: 'theta-A', trajectory: [], ends: [{ phase: 0, alpha: 0, beta: 0, offPlane: 0, offPlaneRelative: 0 }, { phase: 1, alpha: 1, beta: 0, offPlane: 0, offPlaneRelative: 0 }] },
    { run: '/w/other', label: 'other', shares: 'init', trajectory: [], ends: [{ phase: 0, alpha: 0.1, beta: -0.2, offPlane: 3, offPlaneRelative: 0.25 }] },
  ],
} as unknown as MultiRunPlaneResult;

test('markers and the coordinates table: θ_A at (0,0), θ_B at (1,0), the third point where the job put it; one row per phase end', () => {
  assert.deepEqual(planeMarkers(plane).map((m) => [m.which, m.alpha, m.beta, m.label]), [['A', 0, 0, 'θ_A'], ['B', 1, 0, 'θ_B'], ['C', 0.4, 0.9, 'joint']]);
  const rows = projectionRows(plane, runs);
  assert.equal(rows.length, 3);
  assert.deepEqual(rows.map((r) => [r.label, r.phase, r.last, r.compare]), [['Naive · seed 0', 0, false, 0], ['Naive · seed 0', 1, true, 0], ['other', 0, true, -1]]);
  assert.deepEqual([rows[2].alpha, rows[2].beta, rows[2].offPlane, rows[2].offPlaneRelative, rows[2].shares], [0.1, -0.2, 3, 0.25, 'init']);
  assert.equal(rows[0].loss, null, 'no anchor evaluated');
  const withAnchor = projectionRows({ ...plane, anchors: [{ run: '/w/other', phase: 0, alpha: 0.1, beta: -0.2, offPlane: 3, direct: { loss: [2, 4], accuracy: [0, 0] }, inPlane: { loss: [1, 1], accuracy: [0, 0] }, grid: null }] }, runs);
  assert.deepEqual(withAnchor[2].loss, { direct: [2, 4], inPlane: [1, 1] });
  assert.equal(meanOf([2, 4, NaN]), 3);
  assert.ok(Number.isNaN(meanOf([])));
  assert.equal(sharesText('theta-A'), 'θ_A (same init and first task)');
  assert.equal(sharesText('init'), 'initialisation only');
  assert.equal(tableNumber(-0.2), '−0.200');
  assert.equal(tableNumber(-0.0001), '0.000');
  assert.equal(tableNumber(NaN), '—');
  assert.equal(relativeText(0.25), '25%');
  assert.equal(relativeText(0.072), '7.2%');
  assert.deepEqual(drawnFolders({ plane }), ['/w/naive', '/w/other']);
});

test('paths: one barrier row per path with its numbers; each task’s loss series with gaps for non-finite losses', () => {
  const paths = {
    reference: '/w/naive',
    paths: [
      { kind: 'line', label: 'A → B', to: { run: '/w/naive', phase: 1, label: 'B' }, distance: 2, t: [0, 0.5, 1], loss: [[1, 3, 2], [2, Infinity, 1]], barrier: [1.5, NaN], barrierT: [0.5, 0.5], meanBarrier: 0.7, meanLoss: [1.5, 2.5, 1.5] },
      { kind: 'bezier', label: 'Bezier A → B', to: { run: '/w/naive', phase: 1, label: 'B' }, distance: 2, t: [0, 0.5, 1], loss: [[1, 1, 2], [2, 1, 1]], barrier: [0, 0], barrierT: [0, 0], meanBarrier: 0, meanLoss: [1.5, 1, 1.5] },
    ],
  } as unknown as PathsResult;
  const rows = barrierRows(paths);
  assert.deepEqual(rows.map((r) => [r.label, r.kind, r.barrier, r.meanBarrier]), [['A → B', 'line', [1.5, NaN], 0.7], ['Bezier A → B', 'bezier', [0, 0], 0]]);
  assert.equal(maxBarrier(rows[0]), 1.5);
  // Endpoints are left out: the Bezier row's highest inner mean loss is its midpoint's, below its ends.
  assert.deepEqual(rows.map((r) => r.innerMeanLoss), [2.5, 1]);
  const s1 = pathLossSeries(paths, 1);
  assert.deepEqual(s1[0].points, [{ x: 0, y: 2 }, { x: 0.5, y: null }, { x: 1, y: 1 }]);
  assert.deepEqual(pathLossDomain(paths, 0), [0, 3 * 1.05]);
  assert.deepEqual(drawnFolders({ paths }), ['/w/naive', '/w/naive', '/w/naive']);
});
