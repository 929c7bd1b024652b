/**
 * A second thread for the engine's own kernels, over the wasm backend's memory itself: with the
 * threaded tfjs binary that memory is shared (a SharedArrayBuffer), so a worker thread can
 * instantiate the same kernel modules over it and compute part of a call in place: no copy of
 * weights, inputs or gradients, as data-parallel lanes need (dataParallel.ts).
 *
 * A call is cut into parts that write disjoint outputs (rows of a product, a range of Adam's
 * elements) and compute each output exactly as the whole call would: the same bits with or
 * without the helper, and whatever the cut. Part 0 runs on this thread, part 1 on the helper when
 * one is engaged; otherwise both run here, one after the other.
 *
 * The handshake is a few Int32 words in a SharedArrayBuffer: this thread writes the module, the
 * function and its arguments, bumps the request number and notifies; the helper (blocked in
 * Atomics.wait, never on its event loop) runs the part and stores the number as done. Modules
 * reach it once each, as bytes, and its errors come back, through a port read synchronously on
 * both sides (receiveMessageOnPort).
 */
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { WA, backendMemory, isSharedMemory, moduleSource } from './wasmAsm';

// Control words.
const REQUEST = 0;
const DONE = 1;
const MODULE = 2;
const FN = 3;
const NARGS = 4;
const FAILED = 5;
const ARGS = 8;
const MAX_ARGS = 24;
const STOP = -1;

/** The helper's loop: plain JS, started with `eval` (no file to bundle or locate). */
const HELPER_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { memory, control, port } = workerData;
const ctrl = new Int32Array(control);
const modules = new Map();
let seen = 0;
for (;;) {
  Atomics.wait(ctrl, ${REQUEST}, seen);
  seen = Atomics.load(ctrl, ${REQUEST});
  const id = ctrl[${MODULE}];
  if (id === ${STOP}) break;
  try {
    while (!modules.has(id)) {
      const m = receiveMessageOnPort(port);
      if (!m) throw new Error('kernel module ' + id + ' never arrived');
      const { id: got, bytes, names } = m.message;
      const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
      modules.set(got, names.map((n) => exports[n]));
    }
    const args = [];
    for (let i = 0; i < ctrl[${NARGS}]; i++) args.push(ctrl[${ARGS} + i]);
    modules.get(id)[ctrl[${FN}]](...args);
    ctrl[${FAILED}] = 0;
  } catch (e) {
    ctrl[${FAILED}] = 1;
    port.postMessage(String(e));
  }
  Atomics.store(ctrl, ${DONE}, seen);
  Atomics.notify(ctrl, ${DONE});
}
`;

export interface KernelHelper {
  /** Starts part of a call on the helper (arguments are i32s: heap offsets, counts, float bits). */
  start(exportsObject: object, fn: string, args: number[]): void;
  /** Waits for the part started last; throws what it threw. */
  finish(): void;
  /** How many parts it has run (tests, benchmarks). */
  parts(): number;
  /** Stops the thread. */
  dispose(): Promise<void>;
}

let engaged: KernelHelper | null = null;

/** Makes `helper` (or none) take part 1 of the engine's split kernel calls; returns the previous one. */
export function engageKernelHelper(helper: KernelHelper | null): KernelHelper | null {
  const previous = engaged;
  engaged = helper;
  return previous;
}

/**
 * The helper's share of each module's items. The helper's half of a call measured ~30 % slower
 * than this thread's (the inputs were just written here, in this core's caches), so shares follow
 * the measured times: less when this thread waits for the helper, more when it does not. The cut
 * never changes a result (each output is computed as the whole call computes it), only who waits.
 */
const shares = new WeakMap<object, number>();
const SHARE_MIN = 0.2;
const SHARE_MAX = 0.6;

/**
 * Runs `exportsObject[fn]` on each part's arguments: part 0 here and part 1 on the engaged helper
 * at the same time, or every part here in order. Parts must write disjoint outputs.
 */
export function runParts(exportsObject: object, fn: string, parts: number[][]): void {
  const f = (exportsObject as Record<string, (...a: number[]) => void>)[fn];
  const helper = engaged;
  if (helper && parts.length === 2 && moduleSource(exportsObject)) {
    const t0 = performance.now();
    helper.start(exportsObject, fn, parts[1]);
    let here = 0;
    try {
      f(...parts[0]);
    } finally {
      here = performance.now() - t0;
      helper.finish();
    }
    const waited = performance.now() - t0 - here;
    const share = shares.get(exportsObject) ?? 0.5;
    shares.set(exportsObject, Math.min(SHARE_MAX, Math.max(SHARE_MIN, waited > 0.02 * here ? share - 0.01 : share + 0.002)));
    return;
  }
  for (const p of parts) f(...p);
}

/** The cut of `n` items (rows, elements) into two parts, the first a multiple of `multiple`, the second about `share` of n; null when a part would be under `minEach`. */
export function cutInTwo(n: number, multiple: number, minEach = 1, share = 0.5): number | null {
  const first = Math.round((n * (1 - share)) / multiple) * multiple;
  return first >= minEach && n - first >= minEach ? first : null;
}

/** cutInTwo for a call of `exportsObject` with the helper's current share of it. */
export function helperCut(exportsObject: object, n: number, multiple: number, minEach = 1): number | null {
  return cutInTwo(n, multiple, minEach, shares.get(exportsObject) ?? 0.5);
}

/** Whether a helper is engaged (kernels cut their calls only then, to keep one-thread calls whole). */
export function kernelHelperEngaged(): boolean {
  return engaged !== null;
}

/**
 * Starts a helper over the wasm backend's memory; null when that memory is not shared (the
 * non-threaded binary, another backend) or WebAssembly is missing.
 */
export async function startKernelHelper(backend: unknown): Promise<KernelHelper | null> {
  const memory = backendMemory(backend);
  if (!memory || !WA || !isSharedMemory(memory)) return null;
  const control = new SharedArrayBuffer((ARGS + MAX_ARGS) * 4);
  const ctrl = new Int32Array(control);
  const { port1: port, port2 } = new MessageChannel();
  const worker = new Worker(HELPER_SOURCE, { eval: true, workerData: { memory, control, port: port2 }, transferList: [port2] });
  let exited: Error | null = null;
  worker.on('error', (e) => (exited = e));
  worker.on('exit', (code) => (exited ??= new Error(`the kernel helper thread exited (code ${code})`)));
  await new Promise<void>((resolve, reject) => {
    worker.once('online', resolve);
    worker.once('error', reject);
  });
  // Blocked in Atomics.wait between calls, it must not keep the process alive.
  worker.unref();
  port.unref();
  const sent = new Map<object, number>();
  let seq = 0;
  let pending = false;
  let parts = 0;
  return {
    start(exportsObject, fn, args) {
      if (exited) throw exited;
      if (pending) throw new Error('kernel helper: a part is already running');
      if (args.length > MAX_ARGS) throw new Error(`kernel helper: ${args.length} arguments (at most ${MAX_ARGS})`);
      const source = moduleSource(exportsObject);
      if (!source) throw new Error('kernel helper: not an engine kernel module');
      let id = sent.get(exportsObject);
      if (id === undefined) {
        id = sent.size;
        sent.set(exportsObject, id);
        port.postMessage({ id, bytes: source.bytes, names: source.names });
      }
      const index = source.names.indexOf(fn);
      if (index < 0) throw new Error(`kernel helper: the module has no function '${fn}'`);
      ctrl[MODULE] = id;
      ctrl[FN] = index;
      ctrl[NARGS] = args.length;
      for (let i = 0; i < args.length; i++) ctrl[ARGS + i] = args[i];
      pending = true;
      parts++;
      Atomics.store(ctrl, REQUEST, ++seq);
      Atomics.notify(ctrl, REQUEST);
    },
    finish() {
      if (!pending) return;
      pending = false;
      // (Its 'exit' and 'error' events cannot arrive while this thread waits: a helper that stopped
      // answering is given up on after a minute, far beyond any part's time.)
      let silentSeconds = 0;
      while (Atomics.load(ctrl, DONE) !== seq) {
        if (exited) throw exited;
        if (Atomics.wait(ctrl, DONE, seq - 1, 1000) === 'timed-out' && ++silentSeconds >= 60) {
          exited = new Error('the kernel helper thread stopped answering');
          throw exited;
        }
      }
      if (ctrl[FAILED]) throw new Error(`kernel helper: ${String(receiveMessageOnPort(port)?.message ?? 'the part failed')}`);
    },
    parts: () => parts,
    async dispose() {
      if (exited) return;
      if (engaged === this) engaged = null;
      worker.ref(); // its exit must keep this process waiting for it
      ctrl[MODULE] = STOP;
      Atomics.store(ctrl, REQUEST, ++seq);
      Atomics.notify(ctrl, REQUEST);
      await new Promise<void>((resolve) => {
        if (exited) resolve();
        else worker.once('exit', () => resolve());
      });
    },
  };
}
