// A run's share of the cores: CLW_THREADS when set by a launcher running several runs at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { machineCores, runCores, threadsPerRun, THREADS_ENV } from '../../src/engine/cores';

test('runCores: every core alone, the launcher\'s share when CLW_THREADS is a positive integer', () => {
  const cores = machineCores();
  assert.ok(cores >= 1);
  assert.equal(runCores({}), cores);
  assert.equal(runCores({ [THREADS_ENV]: '1' }), 1);
  // Never more than the machine has; nonsense is ignored, not trusted.
  assert.equal(runCores({ [THREADS_ENV]: String(cores + 7) }), cores);
  for (const bad of ['0', '-2', '1.5', 'two', '']) assert.equal(runCores({ [THREADS_ENV]: bad }), cores, `CLW_THREADS=${JSON.stringify(bad)}`);
});

test('threadsPerRun: floor(cores / runs in flight), at least one', () => {
  assert.equal(threadsPerRun(1, 8), 8);
  assert.equal(threadsPerRun(2, 8), 4);
  assert.equal(threadsPerRun(3, 8), 2);
  assert.equal(threadsPerRun(9, 8), 1);
  assert.equal(threadsPerRun(0, 2), 2);
  assert.equal(threadsPerRun(2, 2), 1);
});
