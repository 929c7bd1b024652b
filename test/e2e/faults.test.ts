// End-to-end faults in a real VS Code (code-server + Chromium): the trainer killed with SIGKILL mid-run,
// and the window reloaded mid-run (the extension host shuts down under a running trainer). Each
// must leave a complete result.json marked failed / cancelled (never "running", never torn JSON),
// no temp files and no run lock.
// Run: npm run build && node --import tsx --test test/e2e/faults.test.ts
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { RunResult, RunStatus } from '../../src/protocol/result';
import { RUN_LOCK_FILE } from '../../src/engine/runLock';
import { Workbench, runDirs, runsDir, waitFor, workbenchSuite } from './harness';

const LONG = { file: 'long.cl.json', name: 'Long MNIST then Fashion-MNIST' };
const RUN_ITEM = 'Run Continual Experiment';

/** JSON.parse of the file, or why not (missing / torn): a fault must never leave torn JSON. */
function parseResultFile(file: string): { result?: RunResult; error?: string } {
  if (!existsSync(file)) return { error: 'missing' };
  try {
    return { result: JSON.parse(readFileSync(file, 'utf8')) as RunResult };
  } catch (e) {
    return { error: `not valid JSON: ${(e as Error).message}` };
  }
}

/** Pids of trainer processes (dist/trainer.js) working in this workspace (other e2e runs may have theirs). */
function trainerPids(wb: Workbench): number[] {
  const out = spawnSync('pgrep', ['-f', 'dist/trainer\\.js'], { encoding: 'utf8' }).stdout ?? '';
  return out
    .split('\n')
    .map(Number)
    .filter((pid) => pid > 0)
    .filter((pid) => {
      try {
        return realpathSync(`/proc/${pid}/cwd`) === realpathSync(wb.workspace);
      } catch {
        return false; // gone meanwhile
      }
    });
}

/** Starts long.cl.json and waits until its new run folder has a result with training under way. */
async function startLongRun(wb: Workbench): Promise<{ dir: string; pid: number }> {
  const known = runDirs(wb);
  await wb.explorerContextAction(LONG.file, RUN_ITEM);
  return waitFor(
    () => {
      const fresh = runDirs(wb).filter((n) => !known.includes(n));
      if (fresh.length !== 1) return undefined;
      const dir = join(runsDir(wb), fresh[0]);
      const { result } = parseResultFile(join(dir, 'result.json'));
      if (result && result.status !== 'running') throw Object.assign(new Error(`the run ended before the fault: ${result.status}`), { fatal: true });
      // Training under way: the first row is not there yet, the result is being written.
      if (!result || result.accuracyMatrix.length > 0) return undefined;
      const pids = trainerPids(wb);
      return pids.length === 1 ? { dir, pid: pids[0] } : undefined;
    },
    { timeout: 120_000, interval: 250, message: 'the long run to start training in its own trainer process' },
  );
}

/** Waits for the run's result.json to reach a final status; checks it is complete and alone. */
async function finalResult(dir: string, want: RunStatus): Promise<RunResult> {
  const file = join(dir, 'result.json');
  let last = '';
  const result = await waitFor(
    () => {
      const { result, error } = parseResultFile(file);
      last = error ?? result!.status;
      return result && result.status !== 'running' ? result : undefined;
    },
    { timeout: 60_000, interval: 250, message: `${file} to leave "running" (last: ${last})` },
  );
  assert.equal(result.status, want, `result.json status (error: ${result.error?.message ?? 'none'})`);
  const left = readdirSync(dir).filter((f) => f.endsWith('.tmp') || f === RUN_LOCK_FILE);
  assert.deepEqual(left, [], `no temp files or run lock left in ${dir}`);
  return result;
}

describe('Faults in VS Code (code-server + Chromium)', () => {
  const { step } = workbenchSuite('faults', { theme: 'dark', fixtures: [LONG.file] });

  test('kill -9 of the trainer mid-training: result.json is complete and says failed, with the signal', { timeout: 240_000 }, () =>
    step('kill-9', async (wb) => {
      const { dir, pid } = await startLongRun(wb);
      process.kill(pid, 'SIGKILL');
      const result = await finalResult(dir, 'failed');
      assert.match(result.error?.message ?? '', /SIGKILL/, 'the error names the signal');
      assert.equal(result.error?.phase, 'trainer');
      await wb.screenshot('fault-kill-9');
    }));

  test('the window reloaded mid-run: the host stops the trainer and the result says cancelled', { timeout: 240_000 }, () =>
    step('window-reloaded', async (wb) => {
      await wb.closeAllEditors();
      const { dir, pid } = await startLongRun(wb);
      await wb.runCommandFromPalette('Developer: Reload Window');
      const result = await finalResult(dir, 'cancelled');
      // The trainer is gone: nothing keeps training for a window that no longer exists.
      await waitFor(() => !existsSync(`/proc/${pid}`), { timeout: 30_000, message: `trainer ${pid} to exit` });
      assert.ok(result.accuracyMatrix.length < 2, 'a cancelled run did not finish every task');
      // The reloaded window is usable again.
      await wb.page.locator('.explorer-folders-view, .monaco-workbench').first().waitFor({ state: 'visible', timeout: 60_000 });
      await wb.screenshot('fault-window-reloaded');
    }));
});
