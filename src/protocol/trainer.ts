// Messages between the extension host and a forked trainer process (one process per run).
import type { RunEvent } from './events';
import type { BackendName } from './result';

export interface RunRequest {
  type: 'run';
  /** Absolute path of the experiment file (read and validated by the trainer). */
  experimentFile: string;
  /** Folder the result (and report) is written to. */
  outDir: string;
  backend: BackendName | 'auto';
  /** Extra dataset folder (setting `continualWorkbench.dataDir`), searched before the cache. */
  dataDir?: string;
  /** Download/cache folder for datasets. */
  cacheDir?: string;
  /** Where dist/webview.js lives, for report.html; no report when absent. */
  assetsDir?: string;
}

export type ToTrainerMessage = RunRequest | { type: 'cancel' };

export type FromTrainerMessage =
  | { type: 'event'; event: RunEvent }
  /** Validation failed before anything ran: positioned messages ("file:line:col: message"). */
  | { type: 'invalid'; errors: string[] }
  | { type: 'exit'; status: 'completed' | 'cancelled' | 'failed' | 'invalid'; resultFile?: string };
