/**
 * Adam's update of one variable as a single kernel on tfjs's wasm backend ('ClwAdamUpdate').
 *
 * tfjs's AdamOptimizer runs about ten elementwise kernels per variable, each a full pass over the
 * weights; this one reads w, m, v, g once and writes w', m', v' in one SIMD pass. It performs
 * tfjs's float32 operations in tfjs's order (adam_optimizer.js, tfjs-core 4.22) with the same
 * float32 constants, so its results are bitwise those of tf.train.adam:
 *   m' = m*b1 + g*c1                     (c1 = f32(1 - beta1))
 *   v' = v*b2 + (g*g)*c2                 (c2 = f32(1 - beta2))
 *   w' = ((m'/a1) / (sqrt(v'/a2) + eps)) * nlr + w     (a1 = 1 - accBeta1, a2 = 1 - accBeta2, nlr = f32(-lr))
 * It writes new buffers (never in place: the Identity kernel lets tensors share a buffer).
 */
import type { TF } from '../models/types';
import {
  ADD, F32X4_ADD, F32X4_MUL, V_LOAD, V_STORE, assembleModule, forRange, get, heapOffset, i32, moduleFor, set, simd, tee, type Code, type FnDef,
  type HeapBackend as WasmBackend, type HeapTensor as TensorInfo,
} from './wasmAsm';
import { helperCut, kernelHelperEngaged, runParts } from './kernelHelper';

export const ADAM_KERNEL = 'ClwAdamUpdate';
const BACKEND = 'wasm';
const MODULE_KEY = 'adam';

/** The float32 scalars of one update (each exactly a float32 value: tfjs makes them float32 scalars). */
export interface AdamUpdateAttrs {
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  /** 1 - accBeta1 (the bias correction of the first moment). */
  oneMinusAccBeta1: number;
  oneMinusAccBeta2: number;
  epsilon: number;
  negLearningRate: number;
}
const ATTR_ORDER: (keyof AdamUpdateAttrs)[] = [
  'beta1', 'oneMinusBeta1', 'beta2', 'oneMinusBeta2', 'oneMinusAccBeta1', 'oneMinusAccBeta2', 'epsilon', 'negLearningRate',
];

interface AdamModule {
  /** (w, m, v, g, wOut, mOut, vOut, vectorBytes, totalBytes, ...the 8 scalars' float32 bits in ATTR_ORDER) */
  adamUpdate(...args: number[]): void;
}

// Baseline SIMD opcodes this kernel needs beyond wasmAsm's.
const F32X4_SQRT = simd(0xe3);
const F32X4_DIV = simd(0xe7);
const I32X4_SPLAT = simd(0x11);
const V_LOAD32_SPLAT = simd(0x09, 0, 0);
const V_STORE32_LANE0 = simd(0x5a, 0, 0, 0);

/**
 * for i in 16-byte blocks, then for i in the remaining 4-byte elements (lane 0 of a splat):
 *   g = G[i]; m' = M[i]*b1 + g*c1; v' = V[i]*b2 + (g*g)*c2
 *   MO[i] = m'; VO[i] = v'; WO[i] = ((m'/a1) / (sqrt(v'/a2) + eps)) * nlr + W[i]
 */
function adamFn(): FnDef {
  const [W, M, V, G, WO, MO, VO, vecBytes, totalBytes] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const scalarParams = ATTR_ORDER.map((_, k) => 9 + k);
  let l = 17;
  const i = l++;
  const [b1, c1, b2, c2, a1, a2, eps, nlr, g, m2, v2] = Array.from({ length: 11 }, () => l++);
  const at = (base: number, load: Code): Code => [...get(base), ...get(i), ...ADD, ...load];
  const update = (load: Code, store: Code): Code => [
    ...at(G, load), ...set(g),
    ...get(MO), ...get(i), ...ADD,
    ...at(M, load), ...get(b1), ...F32X4_MUL, ...get(g), ...get(c1), ...F32X4_MUL, ...F32X4_ADD, ...tee(m2),
    ...store,
    ...get(VO), ...get(i), ...ADD,
    ...at(V, load), ...get(b2), ...F32X4_MUL, ...get(g), ...get(g), ...F32X4_MUL, ...get(c2), ...F32X4_MUL, ...F32X4_ADD, ...tee(v2),
    ...store,
    ...get(WO), ...get(i), ...ADD,
    ...get(m2), ...get(a1), ...F32X4_DIV,
    ...get(v2), ...get(a2), ...F32X4_DIV, ...F32X4_SQRT, ...get(eps), ...F32X4_ADD,
    ...F32X4_DIV, ...get(nlr), ...F32X4_MUL,
    ...at(W, load), ...F32X4_ADD,
    ...store,
  ];
  const body: Code = [
    ...scalarParams.flatMap((p, k) => [...get(p), ...I32X4_SPLAT, ...set([b1, c1, b2, c2, a1, a2, eps, nlr][k])]),
    ...forRange(i, i32(0), get(vecBytes), i32(16), update(V_LOAD, V_STORE)),
    ...forRange(i, get(vecBytes), get(totalBytes), i32(4), update(V_LOAD32_SPLAT, V_STORE32_LANE0)),
  ];
  return { exportName: 'adamUpdate', params: 17, i32Locals: 1, v128Locals: 11, body };
}

function assembleAdamModule(): Uint8Array {
  return assembleModule([adamFn()]);
}

/** The SIMD module over this backend's memory, or null (not wasm, SIMD kernels disabled). */
function adamModule(backend: unknown): AdamModule | null {
  return moduleFor<AdamModule>(backend, MODULE_KEY, assembleAdamModule);
}

/** Whether the fused update runs as SIMD on tf's active backend (else callers use tfjs's own ops). */
export function wasmAdamAvailable(tf: TF): boolean {
  return tf.getBackend() === BACKEND && adamModule(tf.backend()) !== null;
}

const f32bits = new Float32Array(1);
const i32bits = new Int32Array(f32bits.buffer);
function bitsOf(x: number): number {
  f32bits[0] = x;
  return i32bits[0];
}


function adamUpdateKernel(args: { inputs: Record<string, TensorInfo>; attrs: Record<string, unknown>; backend: unknown }): TensorInfo[] {
  const backend = args.backend as WasmBackend;
  const { w, m, v, g } = args.inputs;
  for (const [k, t] of Object.entries({ w, m, v, g })) {
    if (!t) throw new Error(`${ADAM_KERNEL}: input '${k}' is missing`);
    if (t.dtype !== 'float32') throw new Error(`${ADAM_KERNEL}: input '${k}' must be float32 (got ${t.dtype})`);
    if (t.shape.length !== w.shape.length || t.shape.some((d, j) => d !== w.shape[j])) {
      throw new Error(`${ADAM_KERNEL}: input '${k}' has shape [${t.shape}], expected [${w.shape}] (w's)`);
    }
  }
  const s = ATTR_ORDER.map((k) => {
    const x = args.attrs[k];
    if (typeof x !== 'number') throw new Error(`${ADAM_KERNEL}: attr '${k}' must be a number`);
    return Math.fround(x);
  });
  const wOut = backend.makeOutput(w.shape, 'float32');
  const mOut = backend.makeOutput(w.shape, 'float32');
  const vOut = backend.makeOutput(w.shape, 'float32');
  const n = w.shape.reduce((a, d) => a * d, 1);
  const mod = adamModule(backend);
  if (mod) {
    // Offsets after every makeOutput (an allocation may grow the heap; offsets stay valid).
    const [wo, mo, vo, go, wOo, mOo, vOo] = [w, m, v, g, wOut, mOut, vOut].map((t) => heapOffset(backend, t));
    const scalars = s.map(bitsOf);
    // Elementwise: with a kernel helper engaged (kernelHelper.ts) each thread updates a range.
    const cut = kernelHelperEngaged() ? helperCut(mod, n, 4, 4096) : null;
    if (cut === null) mod.adamUpdate(wo, mo, vo, go, wOo, mOo, vOo, (n & ~3) * 4, n * 4, ...scalars);
    else {
      const at = [wo, mo, vo, go, wOo, mOo, vOo];
      runParts(mod, 'adamUpdate', [
        [...at, cut * 4, cut * 4, ...scalars],
        [...at.map((p) => p + cut * 4), (n & ~3) * 4 - cut * 4, n * 4 - cut * 4, ...scalars],
      ]);
    }
  } else {
    // Same operations in double rounded to float32 after each one: equal to float32 arithmetic
    // (double has more than 2*24+2 bits, so the double rounding is innocuous for + - * / sqrt).
    const [b1, c1, b2, c2, a1, a2, eps, nlr] = s;
    const f = Math.fround;
    const [W, M, V, G, WO, MO, VO] = [w, m, v, g, wOut, mOut, vOut].map((t) => backend.typedArrayFromHeap(t) as Float32Array);
    for (let j = 0; j < n; j++) {
      const gj = G[j];
      const mj = f(f(M[j] * b1) + f(gj * c1));
      const vj = f(f(V[j] * b2) + f(f(gj * gj) * c2));
      MO[j] = mj;
      VO[j] = vj;
      WO[j] = f(f(f(f(mj / a1) / f(f(Math.sqrt(f(vj / a2))) + eps)) * nlr) + W[j]);
    }
  }
  return [wOut, mOut, vOut];
}

const registered = new WeakSet<object>();

/** Registers 'ClwAdamUpdate' (inputs w, m, v, g; attrs AdamUpdateAttrs; outputs [w', m', v']) on tf's wasm backend, once. */
export function registerWasmAdamKernel(tf: TF): void {
  const key = tf.registerKernel as unknown as object;
  if (registered.has(key)) return;
  if (!tf.getKernel(ADAM_KERNEL, BACKEND)) {
    tf.registerKernel({ kernelName: ADAM_KERNEL, backendName: BACKEND, kernelFunc: adamUpdateKernel } as unknown as Parameters<TF['registerKernel']>[0]);
  }
  registered.add(key);
}
