// Where a run's files go: <resultsDir>/<YYYYMMDD-HHMMSS>-<slug of name>/. No vscode import.
// Each run gets a folder of its own (created with mkdir, which fails if it exists: two runs, from
// one window or two, never share one); the host holds its run.lock while the trainer runs (engine/runLock.ts).
import { mkdirSync, rmSync, rmdirSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { runFolderName } from '../engine/runFolderName';

// The folder names are the engine's, so the CLI's sweeps and the extension's runs are named alike.
export { slugOf, timestampOf, runFolderName } from '../engine/runFolderName';

export const DEFAULT_RESULTS_DIR = '.continual/runs';

/** The results folder: the setting, relative to the experiment's workspace folder (or its own folder). */
export function resolveResultsDir(setting: string | undefined, workspaceFolder: string | undefined, experimentDir: string): string {
  const dir = setting?.trim() || DEFAULT_RESULTS_DIR;
  return isAbsolute(dir) ? dir : join(workspaceFolder ?? experimentDir, dir);
}

/** Creates the run folder now, so two runs started in the same second never share one. */
export function reserveRunDir(resultsDir: string, name: string, now = new Date()): string {
  mkdirSync(resultsDir, { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const dir = join(resultsDir, runFolderName(name, now, attempt));
    try {
      mkdirSync(dir);
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 1000) throw e;
    }
  }
}

/**
 * A run that never ran leaves no folder behind: removes the files the host put there (a replay's
 * copy of the experiment) and the folder if nothing else is in it (release the run's lock first).
 */
export function discardRunDir(runDir: string, hostFiles: readonly string[] = []): void {
  for (const f of hostFiles) rmSync(join(runDir, f), { force: true });
  try {
    rmdirSync(runDir);
  } catch {
    // not empty or already gone: keep it
  }
}
