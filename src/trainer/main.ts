// Entry of the forked trainer process: one run (or one landscape or paths job) per process. Receives a
// RunRequest, LandscapeRequest or PathsRequest over IPC, streams events back, exits when it ends. Training and
// landscape evaluation never touch the extension host.
import type { LandscapeJobEvent } from '../protocol/events';
import type { PathsJobEvent } from '../protocol/landscape';
import type { FromLandscapeJobMessage, FromPathsJobMessage, FromTrainerMessage, LandscapeRequest, PathsRequest, ToTrainerMessage } from '../protocol/trainer';
import { computeLandscapeForRun } from '../engine/landscape/job';
import { runPathsJob } from '../engine/landscape/pathsJob';
import { runExperimentFile } from '../engine/runFile';
import { acquireRunLock, type RunLock } from '../engine/runLock';

// After the host has gone (disconnect), sends are dropped: the run still ends and writes its result.
const send = (m: FromTrainerMessage | FromLandscapeJobMessage | FromPathsJobMessage) =>
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
  if (m?.type === 'landscape' && !started) {
    started = true;
    await landscapeJob(m);
    return;
  }
  if (m?.type === 'paths' && !started) {
    started = true;
    await pathsJob(m);
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

/** A landscape job: no run lock (it only adds its own landscape file, atomically, to a finished run). */
async function landscapeJob(m: LandscapeRequest): Promise<never> {
  const t0 = performance.now();
  const event = (e: LandscapeJobEvent) => send({ type: 'landscapeEvent', event: e });
  let lastProgress = 0;
  let file: string | undefined;
  let reopened = false;
  try {
    const landscape = await computeLandscapeForRun(m.runDir, {
      optima: m.optima,
      secondAxis: m.secondAxis,
      grid: m.grid,
      force: m.force,
      backend: m.backend,
      dataDir: m.dataDir ?? process.env.CLW_DATA_DIR,
      cacheDir: m.cacheDir,
      signal: controller.signal,
      onSaved: (saved, again) => {
        file = saved;
        reopened = again;
      },
      onLog: (level, message) => void event({ type: 'log', level, message }),
      onProgress: (done, total, phase) => {
        const t = performance.now();
        if (t - lastProgress < 100 && done < total && done > 0) return; // at most ~10 a second
        lastProgress = t;
        void event({ type: 'landscapeProgress', done, total, phase });
      },
    });
    await event({ type: 'landscapeJobFinished', status: 'completed', file, reopened, landscape, totalMs: performance.now() - t0 });
    await send({ type: 'exit', status: 'completed', resultFile: file });
  } catch (e) {
    const end = jobEnd(e);
    await event({ type: 'landscapeJobFinished', ...end, totalMs: performance.now() - t0 });
    await send({ type: 'exit', status: end.status });
  }
  process.exit(0);
}

/** A paths job: no run lock either (it only adds its own files, atomically, to a finished run). */
async function pathsJob(m: PathsRequest): Promise<never> {
  const t0 = performance.now();
  const event = (e: PathsJobEvent) => send({ type: 'pathsEvent', event: e });
  const lastProgress = new Map<string, number>();
  try {
    const out = await runPathsJob({
      reference: m.reference,
      to: m.to,
      bezier: m.bezier,
      steps: m.steps,
      learningRate: m.learningRate,
      batchSize: m.batchSize,
      points: m.points,
      planeWith: m.planeWith,
      runs: m.runs,
      allowInitOnly: m.allowInitOnly,
      grid: m.grid,
      optima: m.optima,
      force: m.force,
      backend: m.backend,
      dataDir: m.dataDir ?? process.env.CLW_DATA_DIR,
      cacheDir: m.cacheDir,
      signal: controller.signal,
      log: (message) => void event({ type: 'log', level: 'info', message }),
      onProgress: (stage, done, total) => {
        const t = performance.now();
        if (t - (lastProgress.get(stage) ?? 0) < 100 && done < total && done > 0) return; // at most ~10 a second per stage
        lastProgress.set(stage, t);
        void event({ type: 'progress', stage, done, total });
      },
    });
    await event({ type: 'finished', status: 'completed', paths: out.paths, plane: out.plane, files: out.files, reopened: out.reopened, totalMs: performance.now() - t0 });
    await send({ type: 'exit', status: 'completed', resultFile: out.files[0] });
  } catch (e) {
    const end = jobEnd(e);
    await event({ type: 'finished', ...end, totalMs: performance.now() - t0 });
    await send({ type: 'exit', status: end.status });
  }
  process.exit(0);
}

// The host going away (window closed, extension host crash) must not leave a trainer behind.
process.on('disconnect', () => {
  controller.abort();
  setTimeout(() => process.exit(0), 2000).unref();
});

/** How a landscape or paths job that threw ended: cancelled (an AbortError), or failed with its message. */
function jobEnd(e: unknown): { status: 'cancelled' } | { status: 'failed'; error: string } {
  if (e instanceof Error && e.name === 'AbortError') return { status: 'cancelled' };
  return { status: 'failed', error: e instanceof Error ? e.message : String(e) };
}
