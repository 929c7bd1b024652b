// tfjs-backend-wasm's threaded SIMD build (XNNPACK on a pthreadpool) under Node. The engine loads it
// on one pthread when a run has 2 cores (backend/index.ts): for its shared memory, over which the
// engine's kernel helper (kernelHelper.ts) computes beside this thread, not for XNNPACK's threads.
//
// As shipped (4.22) it never starts threads in Node, for four reasons, each handled here for the
// few seconds the backend takes to initialise, then undone:
//   1. WASM_HAS_MULTITHREAD_SUPPORT is hard-wired false when IS_NODE: set it true.
//   2. Emscripten starts its pthread workers from blob: URLs, which Node's Worker rejects
//      (ERR_WORKER_PATH): Blobs built meanwhile keep their parts, URL.createObjectURL writes them
//      to a temp file and returns its path.
//   3. The workers import the main script from a Blob of the factory's source, which names the
//      bundle's module bindings (require$$0...): they get a file requiring the on-disk Emscripten
//      glue instead (wasm-out/tfjs-backend-wasm-threaded-simd.js, copied beside dist/ by the build).
//   4. backend.cc caps the pool at emscripten_num_logical_cores() / 2 ("2 threads per core"), which
//      the Node glue reads from os.cpus(): 1 on a 2-core machine whatever setThreadsCount says.
//      os.cpus() reports every core twice while the module starts.
// Afterwards the pool's workers are unref'd (a running pthread would keep the process alive).
//
// Measured (2026-11-30, 2 threads of XNNPACK, before the engine's own kernels): a seed gave the same
// bits on 1 and 2 threads; small CNN x1.12-1.15, MLP x1.26-1.38. With the engine's kernels doing the
// products and convolutions, one thread of this binary gives the non-threaded binary's bits and
// speed (small CNN and MLP, 10 Adam steps: same weights; steps within noise).

import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { isMainThread, Worker } from 'node:worker_threads';
import type { TF } from '../models/types';

export const THREADED_GLUE = 'tfjs-backend-wasm-threaded-simd.js';

/** The parts of @tensorflow/tfjs-backend-wasm's module used here. */
export interface WasmBackendModule {
  setThreadsCount?(threads: number): void;
  getThreadsCount?(): number;
}

/** The threaded build's Emscripten glue: beside the bundle (dist/), else in node_modules; null when absent. */
export function threadedGluePath(): string | null {
  const beside = join(__dirname, THREADED_GLUE);
  if (existsSync(beside)) return beside;
  try {
    const main = require.resolve('@tensorflow/tfjs-backend-wasm');
    const inPackage = join(dirname(main), '..', 'wasm-out', THREADED_GLUE);
    return existsSync(inPackage) ? inPackage : null;
  } catch {
    return null;
  }
}

export type WasmThreadsPreparation = { restore(): void } | { skipped: string };

/**
 * Makes the next `tf.setBackend('wasm')` start the threaded SIMD build with `threads` threads.
 * Call restore() once setBackend has settled (then afterWasmStart). Skips (single thread) in
 * worker threads, for fewer than 2 threads (unless `evenForOne`: the threaded binary on one
 * thread, which gives the same bits as on several), without SharedArrayBuffer, or without the glue file.
 */
export function prepareWasmThreads(tf: TF, wasm: WasmBackendModule, threads: number, opts: { evenForOne?: boolean; glue?: string } = {}): WasmThreadsPreparation {
  if (threads < 1 || (threads < 2 && !opts.evenForOne)) return { skipped: 'one thread requested' };
  if (!isMainThread) return { skipped: 'a worker thread keeps one wasm thread' };
  if (typeof SharedArrayBuffer !== 'function') return { skipped: 'no SharedArrayBuffer' };
  if (!wasm.setThreadsCount) return { skipped: 'this tfjs-backend-wasm has no setThreadsCount' };
  const glue = opts.glue ?? threadedGluePath();
  if (!glue) return { skipped: `${THREADED_GLUE} not found beside the bundle or in node_modules` };
  // A pthread worker that cannot load the glue takes the process down: load it here first.
  try {
    if (typeof require(glue) !== 'function') return { skipped: `${glue} does not export the Emscripten factory` };
  } catch (e) {
    return { skipped: `${glue} does not load: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` };
  }

  const dir = mkdtempSync(join(os.tmpdir(), 'clw-wasm-threads-'));
  const mainScript = join(dir, 'main.js');
  writeFileSync(mainScript, `var WasmBackendModuleThreadedSimd = require(${JSON.stringify(glue)});\n`);
  let files = 0;

  const NativeBlob = globalThis.Blob;
  class PartsBlob extends NativeBlob {
    readonly parts: unknown[];
    constructor(parts?: unknown[], options?: BlobPropertyBag) {
      super(parts as BlobPart[], options);
      this.parts = parts ?? [];
    }
  }
  const createObjectURL = URL.createObjectURL;
  const postMessage = Worker.prototype.postMessage;
  const cpus = os.cpus;

  globalThis.Blob = PartsBlob as unknown as typeof Blob;
  URL.createObjectURL = (obj: Blob): string => {
    if (obj instanceof PartsBlob && obj.parts.every((p) => typeof p === 'string')) {
      const file = join(dir, `blob-${files++}.js`);
      writeFileSync(file, obj.parts.join(''));
      return file;
    }
    return createObjectURL(obj);
  };
  Worker.prototype.postMessage = function (this: Worker, message: unknown, transfer?: readonly unknown[]) {
    const m = message as { cmd?: string; urlOrBlob?: unknown } | null;
    const out = m && m.cmd === 'load' && typeof m.urlOrBlob !== 'string' ? { ...m, urlOrBlob: mainScript } : message;
    return (postMessage as (this: Worker, v: unknown, t?: readonly unknown[]) => void).call(this, out, transfer);
  } as typeof Worker.prototype.postMessage;
  os.cpus = () => [...cpus(), ...cpus()];
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasm.setThreadsCount(threads);

  let restored = false;
  return {
    restore() {
      if (restored) return;
      restored = true;
      globalThis.Blob = NativeBlob;
      URL.createObjectURL = createObjectURL;
      Worker.prototype.postMessage = postMessage;
      os.cpus = cpus;
      // The workers have read their scripts: init waits until every one reported 'loaded'.
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * After the threaded backend started: unref its pthread workers (they would keep Node alive); with
 * one thread, end the idle workers Emscripten preallocates (8, ~90 MB of RSS: one thread never
 * starts a pthread). Returns the thread count.
 */
export function afterWasmStart(tf: TF, wasm: WasmBackendModule): number {
  const mod = (tf.backend() as unknown as { wasm?: { PThread?: { runningWorkers?: Worker[]; unusedWorkers?: Worker[] } } }).wasm;
  for (const w of [...(mod?.PThread?.runningWorkers ?? []), ...(mod?.PThread?.unusedWorkers ?? [])]) w.unref?.();
  let threads = 1;
  try {
    threads = wasm.getThreadsCount?.() ?? 1;
  } catch {
    threads = 1;
  }
  const pool = mod?.PThread;
  if (threads === 1 && pool?.unusedWorkers && (pool.runningWorkers ?? []).length === 0) {
    for (const w of pool.unusedWorkers.splice(0)) void w.terminate();
  }
  return threads;
}
