// Entry of the forked trainer process: one run per process. Receives a RunRequest over IPC,
// streams run events back, exits when the run ends. Training never touches the extension host.
import type { FromTrainerMessage, ToTrainerMessage } from '../protocol/trainer';
import { runExperimentFile } from '../engine/runFile';
import { acquireRunLock, type RunLock } from '../engine/runLock';

// After the host has gone (disconnect), sends are dropped: the run still ends and writes its result.
const send = (m: FromTrainerMessage) =>
  new Promise<void>((res) => {
    if (!process.send || !process.connected) return res();
    try {
      process.send(m, () => res());
    } catch {
      res();
    }
  });

if (!process.send) {
  console.error('dist/trainer.js is started by the extension (child_process.fork); use dist/cli.js to run experiments by hand.');
  process.exit(2);
}

const EXIT_FOLDER_IN_USE = 3;
const controller = new AbortController();
let started = false;

process.on('message', async (raw: unknown) => {
  const m = raw as ToTrainerMessage;
  if (m?.type === 'cancel') {
    controller.abort();
    return;
  }
  if (m?.type !== 'run' || started) return;
  started = true;
  let lock: RunLock;
  try {
    // One run per folder: the host that forked us took the lock for this run; anyone else's refuses.
    lock = acquireRunLock(m.outDir, [process.ppid]);
  } catch (e) {
    console.error((e as Error).message);
    process.exit(EXIT_FOLDER_IN_USE);
  }
  process.on('exit', () => lock.release());
  try {
    const outcome = await runExperimentFile({
      file: m.experimentFile,
      outDir: m.outDir,
      backend: m.backend,
      dataDir: m.dataDir,
      cacheDir: m.cacheDir,
      assetsDir: m.assetsDir,
      signal: controller.signal,
      onEvent: (event) => void send({ type: 'event', event }),
    });
    if (outcome.kind === 'invalid') {
      await send({ type: 'invalid', errors: outcome.errors });
      await send({ type: 'exit', status: 'invalid' });
    } else {
      await send({ type: 'exit', status: outcome.result.status === 'running' ? 'failed' : outcome.result.status, resultFile: outcome.resultFile });
    }
    process.exit(0);
  } catch (e) {
    console.error(e instanceof Error ? e.stack ?? e.message : String(e));
    process.exit(1);
  }
});

// The host going away (window closed, extension host crash) must not leave a trainer behind.
process.on('disconnect', () => {
  controller.abort();
  setTimeout(() => process.exit(0), 2000).unref();
});
