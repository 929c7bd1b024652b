// The compare view's landscape requests are untrusted webview input: the validator passes exactly
// the shapes the plane card sends, drops the rest, and the host maps run ids (never paths) to folders.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PLANE_LIMITS, pathsJobFields, readPlaneHostMessage, readPlaneRequest, runFolderOf, type PlaneComputeMessage } from '../../src/protocol/planeMessages';

const VALID: PlaneComputeMessage = { type: 'planeCompute', reference: 'naive', third: 'joint', runs: ['ewc', 'replay'], to: ['joint'], bezier: true, steps: 300, allowInitOnly: false, grid: 21 };

test('plane requests: what the card sends is accepted unchanged; cancel too', () => {
  assert.deepEqual(readPlaneRequest(VALID), VALID);
  assert.deepEqual(readPlaneRequest({ type: 'planeCancel', extra: 1 }), { type: 'planeCancel' });
  const pathsOnly = { type: 'planeCompute', reference: 'a/b', third: null, runs: [], to: [], bezier: false, allowInitOnly: true };
  assert.deepEqual(readPlaneRequest(pathsOnly), pathsOnly);
  // Unknown keys are dropped, duplicate ids collapse, force only when true.
  assert.deepEqual(readPlaneRequest({ ...VALID, runs: ['ewc', 'ewc'], evil: '../../etc', force: false }), { ...VALID, runs: ['ewc'] });
  assert.equal((readPlaneRequest({ ...VALID, force: true }) as PlaneComputeMessage).force, true);
});

test('plane requests: malformed shapes, types and sizes are refused', () => {
  const bad: unknown[] = [
    null, 'planeCompute', [], { type: 'planeComputeX' },
    { ...VALID, reference: '' }, { ...VALID, reference: 3 }, { ...VALID, reference: 'x'.repeat(PLANE_LIMITS.id + 1) },
    { ...VALID, third: undefined }, { ...VALID, third: 7 },
    { ...VALID, runs: 'ewc' }, { ...VALID, runs: [1] }, { ...VALID, runs: Array.from({ length: PLANE_LIMITS.runs + 1 }, (_, i) => `r${i}`) },
    { ...VALID, to: null }, { ...VALID, bezier: 'yes' }, { ...VALID, allowInitOnly: 1 },
    { ...VALID, steps: 0 }, { ...VALID, steps: 1.5 }, { ...VALID, steps: 1e9 }, { ...VALID, grid: 2 }, { ...VALID, grid: 1000 }, { ...VALID, force: 'true' },
  ];
  for (const m of bad) assert.equal(readPlaneRequest(m), null, JSON.stringify(m)?.slice(0, 80));
});

test('plane requests: ids map to the compared folders; the reference is not its own line; unknown ids are named', () => {
  const folders: Record<string, string> = { naive: '/w/runs/naive', ewc: '/w/runs/ewc', replay: '/w/runs/replay', joint: '/w/runs/joint' };
  const f = pathsJobFields({ ...VALID, runs: ['naive', 'ewc', 'replay'], to: ['joint', 'naive'] }, (id) => folders[id]);
  assert.deepEqual(f, { reference: '/w/runs/naive', planeWith: '/w/runs/joint', runs: ['/w/runs/ewc', '/w/runs/replay'], to: ['/w/runs/joint'], bezier: true, steps: 300, allowInitOnly: false, grid: 21 });
  assert.equal(pathsJobFields({ ...VALID, third: null }, (id) => folders[id]).planeWith, undefined);
  assert.throws(() => pathsJobFields({ ...VALID, runs: ['/etc'] }, (id) => folders[id]), /run "\/etc" is not in this comparison/);
  assert.throws(() => pathsJobFields({ ...VALID, third: 'naive' }, (id) => folders[id]), /third point must be another run/);
  assert.equal(runFolderOf('/w/runs/naive/result.json'), '/w/runs/naive');
  assert.equal(runFolderOf('C:\\w\\runs\\ewc\\result.json'), 'C:\\w\\runs\\ewc');
});

test('host messages: progress, logs and the outcome are recognised; others are not', () => {
  assert.deepEqual(readPlaneHostMessage({ type: 'planeProgress', stage: 'plane', done: 3, total: 10 }), { type: 'planeProgress', stage: 'plane', done: 3, total: 10 });
  assert.deepEqual(readPlaneHostMessage({ type: 'planeLog', message: 'hi' }), { type: 'planeLog', message: 'hi' });
  assert.equal(readPlaneHostMessage({ type: 'planeFinished', status: 'refused', error: 'Restricted Mode' })?.type, 'planeFinished');
  assert.equal(readPlaneHostMessage({ type: 'planeFinished', status: 'completed', paths: { paths: [] }, plane: null })?.type, 'planeFinished');
  for (const m of [{ type: 'planeProgress', stage: 1, done: 0, total: 1 }, { type: 'planeFinished', status: 'ok' }, { type: 'planeFinished', status: 'completed', plane: { grids: 1 } }, { type: 'comparison' }, null]) {
    assert.equal(readPlaneHostMessage(m), null, JSON.stringify(m));
  }
});
