// How a run ended, from what the host saw of its trainer: every branch of decideOutcome.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decideOutcome, formatGrace, type TrainerEnd } from '../../src/extension/runOutcome';

const end = (over: Partial<TrainerEnd> = {}): TrainerEnd => ({ code: 0, signal: null, killedByHost: false, stderrTail: [], invalidErrors: [], graceMs: 10_000, ...over });

describe('the trainer reported its end (its result is on disk)', () => {
  test('completed: completed, no message, the host writes nothing', () => {
    assert.deepEqual(decideOutcome(end({ exit: { status: 'completed' } })), { outcome: 'completed', hostWritesResult: false });
  });

  test('cancelled: cancelled, the trainer\'s cancelled result stands', () => {
    assert.deepEqual(decideOutcome(end({ exit: { status: 'cancelled' } })), { outcome: 'cancelled', hostWritesResult: false });
  });

  test('failed: the run\'s own error is the message', () => {
    const d = decideOutcome(end({ exit: { status: 'failed' }, runError: 'data: cannot read train-images-idx3-ubyte' }));
    assert.deepEqual(d, { outcome: 'failed', message: 'data: cannot read train-images-idx3-ubyte', hostWritesResult: false });
  });

  test('failed without a recorded error: points at the output', () => {
    assert.equal(decideOutcome(end({ exit: { status: 'failed' } })).message, 'the run failed (see the output)');
  });

  test('invalid: the positioned errors, one a line', () => {
    const d = decideOutcome(end({ exit: { status: 'invalid' }, invalidErrors: ['a.cl.json:3:5: unknown key', 'a.cl.json:7:1: epochs must be ≥ 1'] }));
    assert.deepEqual(d, { outcome: 'invalid', message: 'a.cl.json:3:5: unknown key\na.cl.json:7:1: epochs must be ≥ 1', hostWritesResult: false });
  });

  test('invalid without errors: a generic message, never an empty one', () => {
    assert.equal(decideOutcome(end({ exit: { status: 'invalid' } })).message, 'the experiment file is invalid');
  });

  test('killed or crashed after reporting (while exiting): the written result is final', () => {
    for (const late of [{ signal: 'SIGKILL', code: null, killedByHost: true }, { code: 1 }, { signal: 'SIGSEGV', code: null }]) {
      assert.deepEqual(decideOutcome(end({ exit: { status: 'completed' }, ...late })), { outcome: 'completed', hostWritesResult: false }, JSON.stringify(late));
    }
  });
});

describe('the trainer wrote its end but could not report it (IPC gone): the file on disk is final', () => {
  test('a written cancelled or completed result stands, even if the host killed the process afterwards', () => {
    for (const status of ['cancelled', 'completed'] as const) {
      assert.deepEqual(decideOutcome(end({ written: { status }, code: 0 })), { outcome: status, hostWritesResult: false });
      assert.deepEqual(decideOutcome(end({ written: { status }, killedByHost: true, signal: 'SIGKILL', code: null })), { outcome: status, hostWritesResult: false });
    }
  });

  test('a written failure: the file\'s error, else the reported one, else a generic message', () => {
    assert.equal(decideOutcome(end({ written: { status: 'failed', error: 'train: NaN loss' }, runError: 'other' })).message, 'train: NaN loss');
    assert.equal(decideOutcome(end({ written: { status: 'failed' }, runError: 'reported' })).message, 'reported');
    assert.deepEqual(decideOutcome(end({ written: { status: 'failed' } })), { outcome: 'failed', message: 'the run failed (see the output)', hostWritesResult: false });
  });

  test('a file still saying running is no end: the host decides and writes', () => {
    assert.deepEqual(decideOutcome(end({ written: { status: 'running' }, signal: 'SIGKILL', code: null })), { outcome: 'failed', message: 'the trainer process was killed by SIGKILL', hostWritesResult: true });
  });

  test('the exit report wins over the file', () => {
    assert.equal(decideOutcome(end({ exit: { status: 'completed' }, written: { status: 'running' } })).outcome, 'completed');
  });
});

describe('the trainer died without reporting an end (the host writes the result)', () => {
  test('killed by the host after the cancel grace: cancelled, saying how long it waited, no stderr quoted', () => {
    const d = decideOutcome(end({ killedByHost: true, signal: 'SIGKILL', code: null, graceMs: 10_000, stderrTail: ['noise'] }));
    assert.deepEqual(d, { outcome: 'cancelled', message: 'the trainer did not stop within 10 s of the cancel request and was killed', hostWritesResult: true });
  });

  test('killed because the window closed (dispose before shutdown ended): cancelled, saying so', () => {
    const d = decideOutcome(end({ killedByHost: true, hostKillReason: 'the window closed (the extension host shut down)', signal: 'SIGKILL', code: null }));
    assert.deepEqual(d, { outcome: 'cancelled', message: 'the trainer was stopped: the window closed (the extension host shut down)', hostWritesResult: true });
  });

  test('a sub-second grace is said in ms', () => {
    assert.match(decideOutcome(end({ killedByHost: true, signal: 'SIGKILL', code: null, graceMs: 50 })).message!, /within 50 ms of the cancel/);
  });

  test('could not start: failed, the spawn error, the last stderr lines', () => {
    const d = decideOutcome(end({ spawnError: 'spawn ENOENT', code: null, stderrTail: ['x'] }));
    assert.deepEqual(d, { outcome: 'failed', message: 'the trainer process could not run: spawn ENOENT. Last output: x', hostWritesResult: true });
  });

  test('a spawn error wins over the signal and the code', () => {
    assert.match(decideOutcome(end({ spawnError: 'EAGAIN', signal: 'SIGTERM', code: 1 })).message!, /^the trainer process could not run: EAGAIN$/);
  });

  test('killed by a signal it was not sent by the host (kill -9, the OOM killer): failed, naming the signal', () => {
    const d = decideOutcome(end({ signal: 'SIGKILL', code: null }));
    assert.deepEqual(d, { outcome: 'failed', message: 'the trainer process was killed by SIGKILL', hostWritesResult: true });
  });

  test('a crash: the exit code and the last error line, not the stack or Node\'s footer', () => {
    const stderr = ['node:internal/modules/cjs/loader:1228', '  throw err;', '  ^', '', "Error: Cannot find module '/x/trainer.js'", '    at Module._resolveFilename (node:internal/modules/cjs/loader:1225:15)', '  code: \'MODULE_NOT_FOUND\',', '}', 'Node.js v20.20.2'];
    const d = decideOutcome(end({ code: 1, stderrTail: stderr }));
    assert.deepEqual(d, { outcome: 'failed', message: "the trainer process exited with code 1 before reporting an end. Last error: Error: Cannot find module '/x/trainer.js'", hostWritesResult: true });
  });

  test('the last of several errors, with its type (TypeError, RangeError [code])', () => {
    assert.match(decideOutcome(end({ code: 1, stderrTail: ['Error: first', 'TypeError: x is not a function', '    at f'] })).message!, /Last error: TypeError: x is not a function$/);
    assert.match(decideOutcome(end({ code: 1, stderrTail: ['RangeError [ERR_OUT_OF_RANGE]: bad', '    at f'] })).message!, /Last error: RangeError \[ERR_OUT_OF_RANGE\]: bad$/);
  });

  test('no error line: the last three stderr lines', () => {
    const d = decideOutcome(end({ code: 134, stderrTail: ['l1', 'l2', '<--- JS stacktrace --->', 'FATAL ERROR: Reached heap limit', 'Aborted'] }));
    assert.equal(d.message, 'the trainer process exited with code 134 before reporting an end. Last output: <--- JS stacktrace --->\nFATAL ERROR: Reached heap limit\nAborted');
  });

  test('exit code 0 without an end report is still a failure (nothing says the result is complete)', () => {
    assert.deepEqual(decideOutcome(end({ code: 0 })), { outcome: 'failed', message: 'the trainer process exited with code 0 before reporting an end', hostWritesResult: true });
  });
});

test('formatGrace: seconds from one second up, else milliseconds', () => {
  assert.deepEqual([formatGrace(10_000), formatGrace(2_000), formatGrace(1_000), formatGrace(999), formatGrace(50), formatGrace(1_499)], ['10 s', '2 s', '1 s', '999 ms', '50 ms', '1 s']);
});
