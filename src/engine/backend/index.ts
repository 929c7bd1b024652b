/**
 * Picks the tfjs namespace the engine runs on: tfjs-node (native libtensorflow) when it loads, else
 * tfjs + the wasm backend (with the engine's training kernels), else tfjs's cpu backend.
 *
 * The packages are loaded with `require` at run time (the bundles keep them external, and tfjs-node
 * is an optional dependency that is usually absent). When tfjs-node loads, its namespace is used for
 * everything: it re-exports the whole tfjs API over the same tfjs-core, and mixing two tfjs-core
 * copies must never happen.
 */
import * as os from 'node:os';
import type { BackendName, EnvironmentInfo } from '../../protocol/result';
import type { TF } from '../models/types';
import { runCores } from '../cores';
import { registerWasmTrainingKernels } from './wasmKernels';
import { afterWasmStart, prepareWasmThreads, type WasmBackendModule } from './wasmThreads';

export type PreferredBackend = 'auto' | BackendName;

export interface LoadedBackend {
  tf: TF;
  info: EnvironmentInfo;
  /** Why preferred backends were skipped on the way ('auto' only); empty when the first choice loaded. */
  notes: string[];
}

const TFJS_NODE = '@tensorflow/tfjs-node';
const TFJS = '@tensorflow/tfjs';
const TFJS_WASM = '@tensorflow/tfjs-backend-wasm';

/** One load per backend name per process; 'auto' resolves to one of them. */
const loads = new Map<BackendName, Promise<LoadedBackend>>();
let autoLoad: Promise<LoadedBackend> | null = null;
/** The backend most recently returned (tfjs's active backend is process-global). */
let active: LoadedBackend | null = null;

export interface LoadOptions {
  /**
   * Start the wasm backend on the threaded binary (one pthread), whose memory is shared, so that a
   * kernel helper (kernelHelper.ts) can compute in it: for runs whose steps run on this thread (an
   * MLP). Only the first load of the process decides; it applies when the run has 2 or more cores
   * (CLW_THREADS) and CLW_WASM_SHARED is not 0. CNN runs keep the non-threaded binary: their
   * data-parallel lanes already use both cores, and the threaded binary's start costs ~120 MB of RSS.
   */
  sharedWasmMemory?: boolean;
}

/**
 * Loads (once) and activates a backend. 'auto' tries tensorflow, then wasm, then cpu; an explicit
 * choice that cannot load throws an Error saying why and what to do. Calling again returns the same
 * backend (re-activating it if another one was activated in between).
 */
export async function loadBackend(preferred: PreferredBackend = 'auto', opts: LoadOptions = {}): Promise<LoadedBackend> {
  if (preferred !== 'auto' && preferred !== 'tensorflow' && preferred !== 'wasm' && preferred !== 'cpu') {
    throw new Error(`Unknown backend '${String(preferred)}': use 'auto', 'tensorflow', 'wasm' or 'cpu'`);
  }
  let result: LoadedBackend;
  if (preferred === 'auto') {
    autoLoad ??= loadAuto(opts).catch((e: unknown) => {
      autoLoad = null;
      throw e;
    });
    result = await autoLoad;
  } else {
    result = await loadOnce(preferred, opts);
  }
  await activate(result);
  return result;
}

async function loadAuto(opts: LoadOptions): Promise<LoadedBackend> {
  const notes: string[] = [];
  for (const name of ['tensorflow', 'wasm', 'cpu'] as const) {
    try {
      const loaded = await loadOnce(name, opts);
      return { ...loaded, notes };
    } catch (e) {
      notes.push(`${name}: ${firstLine(e)}`);
    }
  }
  throw new Error(`No tfjs backend could be loaded:\n  ${notes.join('\n  ')}`);
}

function loadOnce(name: BackendName, opts: LoadOptions = {}): Promise<LoadedBackend> {
  let p = loads.get(name);
  if (!p) {
    p = (name === 'tensorflow' ? loadTensorflow() : name === 'wasm' ? loadWasm(opts) : loadCpu()).catch((e: unknown) => {
      loads.delete(name); // a later call may succeed (e.g. after installing a package)
      throw e;
    });
    loads.set(name, p);
  }
  return p;
}

async function activate(b: LoadedBackend): Promise<void> {
  if (active === b && b.tf.getBackend() === b.info.backend) return;
  if (b.tf.getBackend() !== b.info.backend) {
    const ok = await b.tf.setBackend(b.info.backend);
    if (!ok) throw new Error(`tfjs could not switch to its '${b.info.backend}' backend`);
    await b.tf.ready();
  }
  active = b;
}

async function loadTensorflow(): Promise<LoadedBackend> {
  // libtensorflow logs CPU-feature notices to stderr unless told otherwise.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  let tf: TF;
  try {
    tf = quietly(() => require(TFJS_NODE) as TF);
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException)?.code === 'MODULE_NOT_FOUND' && String((e as Error).message).includes(TFJS_NODE);
    throw new Error(
      (missing
        ? `The 'tensorflow' backend needs ${TFJS_NODE}, which is not installed.`
        : `The 'tensorflow' backend needs ${TFJS_NODE}, which failed to load: ${firstLine(e)}.`) +
        ` Install it with \`npm install ${TFJS_NODE}\` (its install step downloads libtensorflow, so it needs` +
        ` internet access and a supported platform), or use the 'wasm' backend ('auto' falls back to it).`,
    );
  }
  await setBackendOrThrow(tf, 'tensorflow', `${TFJS_NODE} loaded but its 'tensorflow' backend did not initialise`);
  return { tf, info: environment(tf, 'tensorflow', os.cpus().length, undefined), notes: [] };
}

async function loadWasm(opts: LoadOptions): Promise<LoadedBackend> {
  const tf = requireTfjs();
  let wasm: WasmBackendModule;
  try {
    // Literal require: the bundles carry tfjs and its wasm backend (dist/ is self-contained).
    wasm = quietly(() => require('@tensorflow/tfjs-backend-wasm') as WasmBackendModule);
  } catch (e) {
    throw new Error(
      `The 'wasm' backend needs ${TFJS_WASM}, which failed to load: ${firstLine(e)}. ` +
        `Reinstall the dependencies (\`npm ci\`), or use the 'cpu' backend (slow).`,
    );
  }
  if (!tf.findBackendFactory('wasm')) {
    throw new Error(
      `${TFJS_WASM} registered its backend with another copy of @tensorflow/tfjs-core than ${TFJS} uses; ` +
        `make both resolve to one tfjs-core (same versions, deduplicated node_modules)`,
    );
  }
  // The Emscripten module adds process handlers that rethrow every uncaught error from inside its
  // (minified, one-line) glue code; remember the listeners so those can be removed again.
  const before = {
    uncaughtException: process.listeners('uncaughtException'),
    unhandledRejection: process.listeners('unhandledRejection'),
  };
  // The threaded binary on one pthread: the same kernels and bits, over a shared memory that the
  // engine's kernel helper (kernelHelper.ts) computes in as well.
  const threaded = opts.sharedWasmMemory && sharedWasmMemoryAllowed() ? prepareWasmThreads(tf, wasm, 1, { evenForOne: true }) : null;
  try {
    await setBackendOrThrow(tf, 'wasm', `the wasm backend did not initialise (is WebAssembly available?)`);
  } finally {
    if (threaded && 'restore' in threaded) {
      threaded.restore();
      afterWasmStart(tf, wasm);
    }
    for (const l of process.listeners('uncaughtException')) {
      if (!before.uncaughtException.includes(l)) process.removeListener('uncaughtException', l);
    }
    for (const l of process.listeners('unhandledRejection')) {
      if (!before.unhandledRejection.includes(l)) process.removeListener('unhandledRejection', l);
    }
  }
  registerWasmTrainingKernels(tf);
  let threads = 1;
  try {
    threads = wasm.getThreadsCount?.() ?? 1;
  } catch {
    threads = 1;
  }
  let simd: boolean | undefined;
  try {
    simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  } catch {
    simd = undefined;
  }
  silenceCpuBanner(tf);
  return { tf, info: environment(tf, 'wasm', threads, simd), notes: [] };
}

/**
 * Whether a run asking for a shared wasm memory gets it: with 2 or more cores (CLW_THREADS) and
 * CLW_WASM_SHARED not 0 (prepareWasmThreads also skips it in worker threads, without
 * SharedArrayBuffer, or without the threaded binary's glue file).
 */
function sharedWasmMemoryAllowed(): boolean {
  return runCores() >= 2 && process.env.CLW_WASM_SHARED !== '0';
}

async function loadCpu(): Promise<LoadedBackend> {
  const tf = requireTfjs();
  await setBackendOrThrow(tf, 'cpu', `tfjs's cpu backend did not initialise`);
  silenceCpuBanner(tf);
  return { tf, info: environment(tf, 'cpu', 1, undefined), notes: [] };
}

function requireTfjs(): TF {
  try {
    return quietly(() => require('@tensorflow/tfjs') as TF);
  } catch (e) {
    throw new Error(`${TFJS} failed to load: ${firstLine(e)}. Reinstall the dependencies (\`npm ci\`).`);
  }
}

async function setBackendOrThrow(tf: TF, name: BackendName, why: string): Promise<void> {
  let ok = false;
  let cause: unknown;
  try {
    ok = await tf.setBackend(name);
    if (ok) await tf.ready();
  } catch (e) {
    cause = e;
  }
  if (!ok || tf.getBackend() !== name) throw new Error(cause ? `${why}: ${firstLine(cause)}` : why);
}

/** tfjs's cpu backend greets Node users ("Hi, looks like you are running TensorFlow.js in Node.js...") on first use. */
function silenceCpuBanner(tf: TF): void {
  try {
    const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
    if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
  } catch {
    // not fatal: the banner is cosmetic
  }
}

function environment(tf: TF, backend: BackendName, threads: number, simd: boolean | undefined): EnvironmentInfo {
  const v = (tf as unknown as { version?: Record<string, string>; version_core?: string });
  const info: EnvironmentInfo = {
    backend,
    tfjsVersion: v.version?.['tfjs'] ?? v.version?.['tfjs-core'] ?? v.version_core ?? 'unknown',
    nodeVersion: process.versions.node,
    platform: process.platform,
    arch: process.arch,
    cpus: os.cpus().length,
    threads,
  };
  if (simd !== undefined) info.simd = simd;
  return info;
}

/** Runs f with console.log/info/warn muted for tfjs's informational chatter; errors still throw. */
function quietly<T>(f: () => T): T {
  const saved = { log: console.log, info: console.info, warn: console.warn };
  const drop = () => undefined;
  console.log = drop;
  console.info = drop;
  console.warn = drop;
  try {
    return f();
  } finally {
    Object.assign(console, saved);
  }
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0].slice(0, 300);
}
