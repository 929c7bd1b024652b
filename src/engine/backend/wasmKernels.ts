/**
 * Training kernels for tfjs's wasm backend (4.22).
 *
 * The wasm backend lacks `Conv2DBackpropFilter`, and several kernels a training step needs are slow
 * there: `Conv2DBackpropInput` and `MaxPoolGrad` are naive scalar loops, `BatchMatMul` with a
 * transposed operand skips XNNPACK (and without one repacks weights that change every step), `Sum`
 * over leading axes (bias gradients) transposes first, and `Identity` (used to save tensors for the
 * backward pass) copies. This module registers replacements that route the arithmetic through
 * XNNPACK (the backend's own Conv2D / BatchMatMul kernels) or do the data movement in a small
 * WebAssembly SIMD module assembled below (JS loops when it is unavailable). Convolutions (`Conv2D`,
 * `FusedConv2D` with bias + linear/relu, the input and filter gradients) run Winograd's minimal
 * filtering (wasmWinograd.ts, wasmWinogradGrad.ts) for 3x3 stride-1 layers and the direct SIMD
 * kernels of wasmConv.ts elsewhere where they apply, single matrix products (`BatchMatMul`,
 * `_FusedMatMul` with bias + linear/relu, any transposes) the direct SIMD GEMM of wasmGemm.ts, and a per-channel bias `Add`
 * runs in one SIMD pass; every other configuration goes to the built-in kernel. Every
 * kernel checks the configuration it supports and throws a clear error otherwise; all match tfjs's
 * cpu backend to float32 rounding (Winograd's transforms add a few roundings: within 2e-5 of the
 * output's scale, tested).
 *
 * Kernels are written at the backend level (TensorInfo in, TensorInfo out; intermediates are heap
 * buffers released with `backend.disposeData`), the way tfjs-backend-wasm writes its own kernels.
 */
import type { TF } from '../models/types';
import {
  ADD, F32_CONST_NEG_INF, F32_LOAD, F32X4_ADD, F32X4_EQ, F32X4_GT, F32X4_PMAX, F32X4_SPLAT, MUL, SUB,
  V_AND, V_ANDNOT, V_LOAD, V_NOT, V_OR, V_STORE, V_ZERO, assembleModule, forRange, get, i32, max, min, moduleFor, set,
  heapOffset, tee, vLoad, vStore, type Code, type FnDef, type HeapBackend as WasmBackend, type HeapTensor as TensorInfo,
} from './wasmAsm';
import { biasAdd, directConv2d, directConvApplies, directConvFilterGrad } from './wasmConv';
import { directMatMul } from './wasmGemm';
import { winogradApplies, winogradConv2d } from './wasmWinograd';
import { winogradFilterGrad, winogradFilterGradApplies } from './wasmWinogradGrad';
export { setWasmSimdKernelsEnabled } from './wasmAsm';



type Attrs = Record<string, unknown>;
type KernelArgs = { inputs: Record<string, TensorInfo>; attrs: Attrs; backend: WasmBackend };
type KernelFn = (args: KernelArgs) => TensorInfo | TensorInfo[];
interface KernelConfigLike {
  kernelName: string;
  backendName: string;
  kernelFunc: KernelFn;
  setupFunc?: (backend: unknown) => void;
  disposeFunc?: (backend: unknown) => void;
}

type Pad = 'valid' | 'same' | number | number[][];
type ConvInfo = ReturnType<TF['backend_util']['computeConv2DInfo']>;

const BACKEND = 'wasm';
/** Marks the kernel functions registered here, so a second registration is a no-op. */
const MARK = Symbol.for('continual-workbench.wasmKernel');
/** Original kernels captured before the first override, per tfjs-core kernel registry. */
const originalsByRegistry = new WeakMap<object, Map<string, KernelConfigLike>>();

/** Kernels replaced (or added) on the wasm backend. */
export const WASM_TRAINING_KERNELS = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'MaxPoolGrad',
  'BatchMatMul',
  'Sum',
  'Identity',
  'Conv2D',
  'FusedConv2D',
  'Add',
  '_FusedMatMul',
  'Cast',
] as const;
export type WasmTrainingKernel = (typeof WASM_TRAINING_KERNELS)[number];

export type WasmKernelMode =
  /** The engine's kernels (default). */
  | 'fast'
  /**
   * tfjs's built-in wasm kernels, plus the one missing kernel (Conv2DBackpropFilter) composed from
   * built-in Transpose + Conv2D: the reference the benchmark compares against.
   */
  | 'builtin';

export interface RegisterOptions {
  mode?: WasmKernelMode;
}

/**
 * Registers the training kernels on the 'wasm' backend of the given tfjs namespace. Idempotent: a
 * second call with the same mode changes nothing; a call with another mode swaps the registrations.
 * Returns the names of the kernels whose registration it changed.
 */
export function registerWasmTrainingKernels(tf: TF, options: RegisterOptions = {}): string[] {
  const mode = options.mode ?? 'fast';
  const originals = captureOriginals(tf);
  const k = makeKernels(tf, originals);
  const wanted: Record<WasmTrainingKernel, KernelFn | null> =
    mode === 'fast'
      ? {
          Conv2DBackpropFilter: k.conv2DBackpropFilter,
          Conv2DBackpropInput: k.conv2DBackpropInput,
          MaxPoolGrad: k.maxPoolGrad,
          BatchMatMul: k.batchMatMul,
          Sum: k.sum,
          Identity: k.identity,
          Conv2D: k.conv2D,
          FusedConv2D: k.fusedConv2D,
          Add: k.add,
          _FusedMatMul: k.fusedMatMul,
          Cast: k.cast,
        }
      : {
          Conv2DBackpropFilter: k.conv2DBackpropFilterComposed,
          Conv2DBackpropInput: null,
          MaxPoolGrad: null,
          BatchMatMul: null,
          Sum: null,
          Identity: null,
          Conv2D: null,
          FusedConv2D: null,
          Add: null,
          _FusedMatMul: null,
          Cast: null,
        };
  const changed: string[] = [];
  for (const name of WASM_TRAINING_KERNELS) {
    const fn = wanted[name];
    const current = tf.getKernel(name, BACKEND) as unknown as KernelConfigLike | undefined;
    const currentTag = current ? (current.kernelFunc as unknown as Record<symbol, string>)[MARK] : undefined;
    const wantedTag = fn ? `${mode}:${name}` : undefined;
    if (currentTag === wantedTag && (fn || current)) continue;
    const original = originals.get(name);
    if (current) tf.unregisterKernel(name, BACKEND);
    if (fn) {
      (fn as unknown as Record<symbol, string>)[MARK] = wantedTag!;
      tf.registerKernel({
        kernelName: name,
        backendName: BACKEND,
        kernelFunc: fn,
        // Keep the original's setup: it binds the wasm function the original kernel calls, and we
        // delegate to the original for the configurations we do not handle ourselves.
        setupFunc: original?.setupFunc,
        disposeFunc: original?.disposeFunc,
      } as unknown as Parameters<TF['registerKernel']>[0]);
    } else if (original) {
      tf.registerKernel(original as unknown as Parameters<TF['registerKernel']>[0]);
    }
    changed.push(name);
  }
  return changed;
}

/** The kernels tfjs-backend-wasm registered itself, captured once (before any override). */
function captureOriginals(tf: TF): Map<string, KernelConfigLike> {
  // The registry is global to one tfjs-core copy; key the capture on a function of that copy.
  const registryKey = tf.getKernel as unknown as object;
  let originals = originalsByRegistry.get(registryKey);
  if (!originals) {
    originals = new Map();
    for (const name of [...WASM_TRAINING_KERNELS, 'Transpose']) {
      const config = tf.getKernel(name, BACKEND) as unknown as KernelConfigLike | undefined;
      if (config && !(config.kernelFunc as unknown as Record<symbol, unknown>)[MARK]) originals.set(name, { ...config });
    }
    for (const name of ['Conv2D', 'FusedConv2D', 'Add', 'Transpose', 'BatchMatMul', '_FusedMatMul', 'Sum', 'Identity']) {
      if (!originals.has(name)) {
        throw new Error(
          `tfjs-backend-wasm's '${name}' kernel is not registered: load @tensorflow/tfjs-backend-wasm ` +
            `(the same tfjs-core copy as the tfjs namespace given) before registering the training kernels`,
        );
      }
    }
    originalsByRegistry.set(registryKey, originals);
  }
  return originals;
}

function makeKernels(tf: TF, originals: Map<string, KernelConfigLike>) {
  const bu = tf.backend_util;
  const orig = (name: string): KernelFn => {
    const c = originals.get(name);
    if (!c) throw new Error(`wasm kernel '${name}' is not available`);
    return c.kernelFunc;
  };
  const conv2d = orig('Conv2D');
  const transpose = orig('Transpose');
  const batchMatMulOrig = orig('BatchMatMul');
  const sumOrig = orig('Sum');
  const identityOrig = orig('Identity');
  const castOrig = orig('Cast');
  const fusedConv2dOrig = orig('FusedConv2D');
  const addOrig = orig('Add');
  const fusedMatMulOrig = orig('_FusedMatMul');

  const call = (fn: KernelFn, backend: WasmBackend, inputs: Record<string, TensorInfo>, attrs: Attrs): TensorInfo =>
    fn({ inputs, attrs, backend }) as TensorInfo;
  const f32 = (backend: WasmBackend, t: TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;

  function checkNHWC(kernel: string, dataFormat: unknown): void {
    if (dataFormat != null && dataFormat !== 'NHWC') {
      throw new Error(`${kernel} on wasm: only dataFormat 'NHWC' is supported (got '${String(dataFormat)}')`);
    }
  }
  function checkFloat(kernel: string, ...ts: TensorInfo[]): void {
    for (const t of ts) {
      if (t.dtype !== 'float32') throw new Error(`${kernel} on wasm: only float32 tensors are supported (got ${t.dtype})`);
    }
  }
  function checkShape(kernel: string, what: string, actual: number[], expected: number[]): void {
    if (actual.length !== expected.length || actual.some((d, i) => d !== expected[i])) {
      throw new Error(`${kernel} on wasm: ${what} has shape [${actual}], expected [${expected}]`);
    }
  }
  function conv2DInfo(kernel: string, xShape: number[], filterShape: number[], attrs: Attrs): ConvInfo {
    checkNHWC(kernel, attrs.dataFormat);
    const dilations = (attrs.dilations as number | [number, number] | undefined) ?? 1;
    const d = typeof dilations === 'number' ? [dilations, dilations] : dilations;
    if (d[0] !== 1 || d[1] !== 1) throw new Error(`${kernel} on wasm: dilations other than 1 are not supported (got ${d})`);
    if (xShape.length !== 4 || filterShape.length !== 4) {
      throw new Error(`${kernel} on wasm: expects a rank-4 input and filter (got [${xShape}] and [${filterShape}])`);
    }
    return bu.computeConv2DInfo(
      xShape as [number, number, number, number],
      filterShape as [number, number, number, number],
      attrs.strides as number | [number, number],
      1,
      attrs.pad as Pad as 'valid',
      attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
      false,
      'channelsLast',
    );
  }

  /**
   * dx of a conv2d, as a stride-1 Conv2D (the direct kernel below, or XNNPACK) of dy with the
   * spatially reversed, in/out-swapped filter; for strides > 1, dy is first spread out with zeros
   * (stride - 1 between its pixels).
   */
  function conv2DBackpropInput({ inputs, attrs, backend }: KernelArgs): TensorInfo {
    const K = 'Conv2DBackpropInput';
    const { dy, filter } = inputs;
    checkFloat(K, dy, filter);
    const info = conv2DInfo(K, attrs.inputShape as number[], filter.shape, attrs);
    const { batchSize: N, inHeight: H, inWidth: W, inChannels: CI, outHeight: OH, outWidth: OW, outChannels: CO } = info;
    const { filterHeight: KH, filterWidth: KW, strideHeight: SH, strideWidth: SW, padInfo } = info;
    checkShape(K, 'dy', dy.shape, [N, OH, OW, CO]);
    // Reversed, swapped filter: wr[KH-1-kh][KW-1-kw][co][ci] = w[kh][kw][ci][co].
    const wr = backend.makeOutput([KH, KW, CO, CI], 'float32');
    {
      const w = f32(backend, filter);
      const o = f32(backend, wr);
      for (let kh = 0; kh < KH; kh++) {
        for (let kw = 0; kw < KW; kw++) {
          const src = (kh * KW + kw) * CI * CO;
          const dst = ((KH - 1 - kh) * KW + (KW - 1 - kw)) * CO * CI;
          for (let ci = 0; ci < CI; ci++) {
            const s = src + ci * CO;
            for (let co = 0; co < CO; co++) o[dst + co * CI + ci] = w[s + co];
          }
        }
      }
    }
    let src = dy;
    const DH = (OH - 1) * SH + 1;
    const DW = (OW - 1) * SW + 1;
    if (SH > 1 || SW > 1) {
      src = backend.makeOutput([N, DH, DW, CO], 'float32');
      const o = f32(backend, src);
      const g = f32(backend, dy);
      o.fill(0);
      for (let n = 0; n < N; n++) {
        for (let oh = 0; oh < OH; oh++) {
          for (let ow = 0; ow < OW; ow++) {
            const s = ((n * OH + oh) * OW + ow) * CO;
            o.set(g.subarray(s, s + CO), ((n * DH + oh * SH) * DW + ow * SW) * CO);
          }
        }
      }
    }
    const top = KH - 1 - padInfo.top;
    const left = KW - 1 - padInfo.left;
    const bottom = H - DH - top + KH - 1;
    const right = W - DW - left + KW - 1;
    if (top < 0 || left < 0 || bottom < 0 || right < 0) {
      backend.disposeData(wr.dataId);
      if (src !== dy) backend.disposeData(src.dataId);
      throw new Error(
        `${K} on wasm: unsupported padding (${JSON.stringify(attrs.pad)}) for input [${H},${W}], ` +
          `filter ${KH}x${KW}, strides ${SH},${SW}`,
      );
    }
    const convAttrs = { strides: 1, pad: [[0, 0], [top, bottom], [left, right], [0, 0]], dataFormat: 'NHWC', dilations: 1 };
    const out = conv2D({ inputs: { x: src, filter: wr }, attrs: convAttrs, backend });
    backend.disposeData(wr.dataId);
    if (src !== dy) backend.disposeData(src.dataId);
    return out;
  }

  /**
   * dW of a conv2d: dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*s+kh-pt, ow*s+kw-pl, ci] dy[n,oh,ow,co],
   * which is a Conv2D (XNNPACK) of x^T = [ci, h, w, n] with the filter dy^T = [oh, ow, n, co] at
   * dilation = stride, giving [ci, kh, kw, co]; rows/columns of x past the last one used are cropped.
   */
  function filterGradViaConv({ inputs, attrs, backend }: KernelArgs, useSimd: boolean): TensorInfo {
    const K = 'Conv2DBackpropFilter';
    const { x, dy } = inputs;
    checkFloat(K, x, dy);
    const filterShape = attrs.filterShape as number[];
    const info = conv2DInfo(K, x.shape, filterShape, attrs);
    const { batchSize: N, inHeight: H, inWidth: W, inChannels: CI, outHeight: OH, outWidth: OW, outChannels: CO } = info;
    const { filterHeight: KH, filterWidth: KW, strideHeight: SH, strideWidth: SW, padInfo } = info;
    checkShape(K, 'dy', dy.shape, [N, OH, OW, CO]);
    const top = padInfo.top;
    const left = padInfo.left;
    // Rows of x a filter tap can reach: up to (OH-1)*SH + KH - 1 - top.
    const HC = Math.min(H, (OH - 1) * SH + KH - top);
    const WC = Math.min(W, (OW - 1) * SW + KW - left);
    const bottom = KH - HC - top + (OH - 1) * SH;
    const right = KW - WC - left + (OW - 1) * SW;
    if (top < 0 || left < 0 || bottom < 0 || right < 0) {
      throw new Error(`${K} on wasm: unsupported padding (${JSON.stringify(attrs.pad)})`);
    }
    // x^T, cropped to [CI, HC, WC, N].
    const simd = useSimd ? simdFor(backend) : null;
    let xt: TensorInfo;
    if (HC === H && WC === W && simd) {
      xt = backend.makeOutput([CI, H, W, N], 'float32');
      simd.transpose3(heapOffset(backend, x), heapOffset(backend, xt), N, H * W, CI);
    } else if (HC === H && WC === W) {
      xt = call(transpose, backend, { x }, { perm: [3, 1, 2, 0] });
    } else {
      xt = backend.makeOutput([CI, HC, WC, N], 'float32');
      const s = f32(backend, x);
      const o = f32(backend, xt);
      for (let ci = 0; ci < CI; ci++) {
        for (let h = 0; h < HC; h++) {
          for (let w = 0; w < WC; w++) {
            let p = ((ci * HC + h) * WC + w) * N;
            let q = (h * W + w) * CI + ci;
            const step = H * W * CI;
            for (let n = 0; n < N; n++, q += step) o[p++] = s[q];
          }
        }
      }
    }
    let dyt: TensorInfo;
    if (simd && CO % 4 === 0) {
      dyt = backend.makeOutput([OH, OW, N, CO], 'float32');
      simd.swapOuter(heapOffset(backend, dy), heapOffset(backend, dyt), N, OH * OW, CO * 4);
    } else {
      dyt = call(transpose, backend, { x: dy }, { perm: [1, 2, 0, 3] });
    }
    const o = call(conv2d, backend, { x: xt, filter: dyt }, {
      strides: 1,
      pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
      dataFormat: 'NHWC',
      dilations: [SH, SW],
    });
    backend.disposeData(xt.dataId);
    backend.disposeData(dyt.dataId);
    checkShape(K, 'the composed result', o.shape, [CI, KH, KW, CO]);
    let out: TensorInfo;
    if (CI === 1) {
      out = { dataId: o.dataId, shape: [KH, KW, CI, CO], dtype: 'float32' };
    } else {
      out = call(transpose, backend, { x: o }, { perm: [1, 2, 0, 3] });
      backend.disposeData(o.dataId);
    }
    return out;
  }

  /**
   * dW by Winograd F(3x3, 4x4) / F(3x3, 2x2) for 3x3 stride-1 filters (wasmWinogradGrad.ts: 2.2-2.6x
   * the direct kernel on the small CNN's second layer); else directly (wasmConv.ts: SIMD, 2 taps x
   * 16 output channels in registers, per-image sums) where the direct convolution applies (1.8x the
   * XNNPACK composition below on that layer); otherwise through XNNPACK as above.
   */
  function conv2DBackpropFilter(args: KernelArgs): TensorInfo {
    const { inputs, attrs, backend } = args;
    const { x, dy } = inputs;
    const filterShape = attrs.filterShape as number[];
    // directConvInfo reads only the filter's shape and dtype.
    const info = dy.dtype === 'float32' ? directConvInfo(x, { dataId: dy.dataId, shape: filterShape, dtype: 'float32' }, attrs) : null;
    if (!info) return filterGradViaConv(args, true);
    const { batchSize: N, outHeight: OH, outWidth: OW, outChannels: CO } = info;
    checkShape('Conv2DBackpropFilter', 'dy', dy.shape, [N, OH, OW, CO]);
    return (
      (winogradFilterGradApplies(info) && winogradFilterGrad(backend, x, dy, info)) ||
      directConvFilterGrad(backend, x, dy, info) ||
      filterGradViaConv(args, true)
    );
  }

  /** The reference filter gradient for 'builtin' mode: built-in Transpose + Conv2D only. */
  function conv2DBackpropFilterComposed(args: KernelArgs): TensorInfo {
    return filterGradViaConv(args, false);
  }

  /**
   * MaxPool's gradient: each output's dy goes to the first maximum of its window (row-major, strict
   * '>', padding never a candidate), as tfjs's cpu backend does; windows may overlap.
   */
  function maxPoolGrad({ inputs, attrs, backend }: KernelArgs): TensorInfo {
    const K = 'MaxPoolGrad';
    const { dy, input } = inputs;
    checkFloat(K, dy, input);
    if (input.shape.length !== 4) throw new Error(`${K} on wasm: expects a rank-4 input (got [${input.shape}])`);
    const info = bu.computePool2DInfo(
      input.shape as [number, number, number, number],
      attrs.filterSize as number | [number, number],
      attrs.strides as number | [number, number],
      1,
      attrs.pad as Pad as 'valid',
      attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    );
    const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
    const { strideHeight: SH, strideWidth: SW, effectiveFilterHeight: FH, effectiveFilterWidth: FW, padInfo } = info;
    checkShape(K, 'dy', dy.shape, [N, OH, OW, C]);
    const dx = backend.makeOutput(input.shape, 'float32');
    const xs = f32(backend, input);
    const g = f32(backend, dy);
    const o = f32(backend, dx);
    // Windows that tile the input exactly (a 2x2 pool of an even-sized map) write every dx once.
    const tiled = padInfo.top === 0 && padInfo.left === 0 && SH === FH && SW === FW && OH * SH === H && OW * SW === W;
    const tiledModule = tiled && C % 4 === 0 && FH * FW <= 9 ? maxPoolGradTiledFor(backend, { FH, FW, W, C, OW }) : null;
    if (tiledModule) {
      tiledModule.maxPoolGradTiled(heapOffset(backend, input), heapOffset(backend, dy), heapOffset(backend, dx), N * OH);
      return dx;
    }
    o.fill(0);
    const simd = C % 4 === 0 ? simdFor(backend) : null;
    if (simd) {
      simd.maxPoolGrad(
        heapOffset(backend, input), heapOffset(backend, dy), heapOffset(backend, dx),
        N, H, W, C, OH, OW, FH, FW, SH, SW, padInfo.top, padInfo.left,
      );
    } else if (padInfo.top === 0 && padInfo.left === 0 && SH >= FH && SW >= FW && (OH - 1) * SH + FH <= H && (OW - 1) * SW + FW <= W) {
      maxPoolGradDisjoint(xs, g, o, N, H, W, C, OH, OW, FH, FW, SH, SW);
    } else {
      maxPoolGradGeneral(xs, g, o, N, H, W, C, OH, OW, FH, FW, SH, SW, padInfo.top, padInfo.left);
    }
    return dx;
  }

  /** Whether a float32 tensor of rank >= 2 holds one matrix (leading dimensions of 1). */
  const singleMatrix = (t: TensorInfo) => t.dtype === 'float32' && t.shape.length >= 2 && t.shape.slice(0, -2).every((d) => d === 1);

  /** A product's operand sizes (rows/columns as stored) and m x k times k2 x n as multiplied. */
  function productDims(a: TensorInfo, b: TensorInfo, tA: boolean, tB: boolean) {
    const ar = a.shape[a.shape.length - 2];
    const ac = a.shape[a.shape.length - 1];
    const br = b.shape[b.shape.length - 2];
    const bc = b.shape[b.shape.length - 1];
    const [m, k] = tA ? [ac, ar] : [ar, ac];
    const [k2, n] = tB ? [bc, br] : [br, bc];
    return { ar, ac, br, bc, m, k, k2, n };
  }

  /**
   * A single product [relu](op(a)·op(b) [+ bias]) by the direct SIMD GEMM (wasmGemm.ts), shaped
   * as tfjs shapes it ([...leading 1s, m, n]); null when it does not apply (the caller delegates).
   */
  function directProduct(
    backend: WasmBackend, a: TensorInfo, b: TensorInfo, bias: TensorInfo | null, relu: boolean, tA: boolean, tB: boolean,
  ): TensorInfo | null {
    if (!singleMatrix(a) || !singleMatrix(b)) return null;
    const { m, k, k2, n } = productDims(a, b, tA, tB);
    if (k !== k2 || m < 1 || n < 1 || k < 1) return null; // the built-in reports a mismatch
    if (bias && !(bias.dtype === 'float32' && bias.shape.length === 1 && bias.shape[0] === n)) return null;
    const transpose2d = (t: TensorInfo, rows: number, cols: number) =>
      call(transpose, backend, { x: { dataId: t.dataId, shape: [rows, cols], dtype: t.dtype } }, { perm: [1, 0] });
    const out = directMatMul(backend, a, b, bias, relu, tA, tB, { m, k, n }, transpose2d);
    if (out) out.shape = [...(a.shape.length > b.shape.length ? a.shape : b.shape).slice(0, -2), m, n];
    return out;
  }

  /**
   * _FusedMatMul (matMul + bias + activation; training's linear output layer and evaluation's
   * layers) by the direct GEMM for linear/relu and a per-column bias; the built-in otherwise.
   */
  function fusedMatMul(args: KernelArgs): TensorInfo {
    const { inputs, attrs, backend } = args;
    const { a, b, bias, preluActivationWeights } = inputs;
    const activation = (attrs.activation as string | undefined) ?? 'linear';
    const out =
      (activation === 'linear' || activation === 'relu') && !preluActivationWeights
        ? directProduct(backend, a, b, bias ?? null, activation === 'relu', !!attrs.transposeA, !!attrs.transposeB)
        : null;
    return out ?? call(fusedMatMulOrig, backend, inputs, attrs);
  }

  /**
   * BatchMatMul: a single float32 product (any transposes) by the direct GEMM: no packing of the
   * weights, which change every training step (XNNPACK repacks them each call), and no transpose of
   * W for dy·Wᵀ. Batched and non-float32 products go to the built-in. Without the SIMD module, the
   * built-in runs XNNPACK only for a single product without transposes and a naive loop otherwise,
   * so a transposed single product is rewritten as a non-transposed one, A·B or (Bᵀ·Aᵀ)ᵀ, whichever
   * moves and packs fewer elements.
   */
  function batchMatMul(args: KernelArgs): TensorInfo {
    const { inputs, attrs, backend } = args;
    const { a, b } = inputs;
    const tA = !!attrs.transposeA;
    const tB = !!attrs.transposeB;
    const direct = directProduct(backend, a, b, null, false, tA, tB);
    if (direct) return direct;
    if ((!tA && !tB) || !singleMatrix(a) || !singleMatrix(b)) {
      return call(batchMatMulOrig, backend, inputs, attrs);
    }
    const { ar, ac, br, bc, m, k, k2, n } = productDims(a, b, tA, tB);
    if (k !== k2) return call(batchMatMulOrig, backend, inputs, attrs); // let the built-in report it
    const a2d: TensorInfo = { dataId: a.dataId, shape: [ar, ac], dtype: a.dtype };
    const b2d: TensorInfo = { dataId: b.dataId, shape: [br, bc], dtype: b.dtype };
    const lead = a.shape.length > b.shape.length ? a.shape.slice(0, -2) : b.shape.slice(0, -2);
    // Elements transposed + packed (XNNPACK copies the right operand into its own layout).
    const moved = (tA ? m * k : 0) + (tB ? k * n : 0) + k * n;
    const swapped = (tB ? 0 : k * n) + (tA ? 0 : m * k) + m * k + m * n;
    const temps: TensorInfo[] = [];
    const t2 = (t: TensorInfo) => {
      const r = call(transpose, backend, { x: t }, { perm: [1, 0] });
      temps.push(r);
      return r;
    };
    let out: TensorInfo;
    if (moved <= swapped) {
      const lhs = tA ? t2(a2d) : a2d;
      const rhs = tB ? t2(b2d) : b2d;
      out = call(batchMatMulOrig, backend, { a: lhs, b: rhs }, { transposeA: false, transposeB: false });
    } else {
      const lhs = tB ? b2d : t2(b2d); // Bᵀ [n, k]
      const rhs = tA ? a2d : t2(a2d); // Aᵀ [k, m]
      const ct = call(batchMatMulOrig, backend, { a: lhs, b: rhs }, { transposeA: false, transposeB: false });
      temps.push(ct);
      out = call(transpose, backend, { x: { dataId: ct.dataId, shape: [n, m], dtype: ct.dtype } }, { perm: [1, 0] });
    }
    for (const t of temps) backend.disposeData(t.dataId);
    out.shape = [...lead, m, n];
    return out;
  }

  /** Identity without a copy (tensors are immutable): share the data, as the cpu backend does. */
  function identity({ inputs, backend }: KernelArgs): TensorInfo {
    const { x } = inputs;
    if (x.dtype === 'string') return call(identityOrig, backend, inputs, {});
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  }

  /**
   * Cast to the dtype the tensor already has (relu's gradient casts its float32 step mask to
   * float32) without a copy, as Identity; every other cast is the built-in's.
   */
  function cast({ inputs, attrs, backend }: KernelArgs): TensorInfo {
    const { x } = inputs;
    if (x.dtype !== attrs.dtype || x.dtype === 'string') return call(castOrig, backend, inputs, attrs);
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  }

  /**
   * Sum over leading axes (a bias gradient: [n, h, w, c] -> [c]) as one pass with float64
   * accumulators; other reductions go to the built-in.
   */
  function sum(args: KernelArgs): TensorInfo {
    const { inputs, attrs, backend } = args;
    const { x } = inputs;
    const rank = x.shape.length;
    const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape);
    const sorted = [...axes].sort((p, q) => p - q);
    const leading = sorted.length > 0 && sorted.length < rank && sorted.every((ax, i) => ax === i);
    if (x.dtype !== 'float32' || !leading) return call(sumOrig, backend, inputs, attrs);
    const rows = x.shape.slice(0, sorted.length).reduce((p, q) => p * q, 1);
    const outShape = x.shape.slice(sorted.length);
    const C = outShape.reduce((p, q) => p * q, 1);
    const out = backend.makeOutput(outShape, 'float32');
    const simd = C % 4 === 0 ? simdFor(backend) : null;
    if (simd) {
      const partial = backend.makeOutput([C], 'float32');
      f32(backend, out).fill(0);
      simd.sumRows(heapOffset(backend, x), rows, C, heapOffset(backend, partial), heapOffset(backend, out));
      backend.disposeData(partial.dataId);
    } else {
      const s = f32(backend, x);
      const acc = new Float64Array(C);
      for (let r = 0, p = 0; r < rows; r++) {
        for (let c = 0; c < C; c++) acc[c] += s[p++];
      }
      f32(backend, out).set(acc);
    }
    if (attrs.keepDims) out.shape = [...x.shape.slice(0, sorted.length).map(() => 1), ...outShape];
    return out;
  }

  /**
   * The geometry of a float32 NHWC conv2d the direct SIMD kernel (wasmConv.ts) handles, or null:
   * output channels in fours, no dilation, up to DIRECT_CONV_MAX_TAPS taps per output channel.
   */
  function directConvInfo(x: TensorInfo, filter: TensorInfo, attrs: Attrs): ConvInfo | null {
    if (x.dtype !== 'float32' || filter.dtype !== 'float32' || x.shape.length !== 4 || filter.shape.length !== 4) return null;
    if (attrs.dataFormat != null && attrs.dataFormat !== 'NHWC') return null;
    let info: ConvInfo;
    try {
      info = bu.computeConv2DInfo(
        x.shape as [number, number, number, number],
        filter.shape as [number, number, number, number],
        attrs.strides as number | [number, number],
        (attrs.dilations as number | [number, number] | undefined) ?? 1,
        attrs.pad as Pad as 'valid',
        attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
        false,
        'channelsLast',
      );
    } catch {
      return null; // the built-in reports it
    }
    return directConvApplies(info) ? info : null;
  }

  /**
   * Conv2D: Winograd for 3x3 stride-1 layers with 8+ input channels (wasmWinograd.ts; ~3x the
   * direct kernel on the small CNN's second layer), else the direct SIMD kernel (wasmConv.ts; 2.3x
   * XNNPACK on the first layer) where it applies, XNNPACK otherwise.
   */
  function conv2D(args: KernelArgs): TensorInfo {
    const { inputs, attrs, backend } = args;
    const { x, filter } = inputs;
    const info = directConvInfo(x, filter, attrs);
    const out =
      info && ((winogradApplies(info) && winogradConv2d(backend, x, filter, null, false, info)) || directConv2d(backend, x, filter, null, false, info));
    return out || call(conv2d, backend, inputs, attrs);
  }

  /**
   * FusedConv2D (conv + bias + activation, used outside gradient tapes) with the direct kernel when
   * the activation is 'linear' or 'relu' and the bias is per channel; the built-in otherwise.
   */
  function fusedConv2D(args: KernelArgs): TensorInfo {
    const { inputs, attrs, backend } = args;
    const { x, filter, bias, preluActivationWeights } = inputs;
    const activation = (attrs.activation as string | undefined) ?? 'linear';
    const info =
      (activation === 'linear' || activation === 'relu') && !preluActivationWeights ? directConvInfo(x, filter, attrs) : null;
    const biasOk = !bias || (bias.dtype === 'float32' && bias.shape.length === 1 && info != null && bias.shape[0] === info.outChannels);
    const relu = activation === 'relu';
    const out =
      info && biasOk
        ? (winogradApplies(info) && winogradConv2d(backend, x, filter, bias ?? null, relu, info)) || directConv2d(backend, x, filter, bias ?? null, relu, info)
        : null;
    return out ?? call(fusedConv2dOrig, backend, inputs, attrs);
  }

  /**
   * Add of a per-channel bias, x [.., C] + b [C] (either order, float32, C % 4 == 0), in one SIMD
   * pass (tfjs's wasm Add broadcasts generically); every other Add goes to the built-in.
   */
  function add(args: KernelArgs): TensorInfo {
    const { inputs, backend } = args;
    const { a, b } = inputs;
    const isBiasOf = (t: TensorInfo, v: TensorInfo) => {
      const C = v.shape[v.shape.length - 1];
      return (
        t.shape.length >= 2 &&
        v.shape.length === 1 &&
        t.shape[t.shape.length - 1] === C &&
        C % 4 === 0 &&
        t.dtype === 'float32' &&
        v.dtype === 'float32'
      );
    };
    let out: TensorInfo | null = null;
    if (isBiasOf(a, b)) out = biasAdd(backend, a, b);
    else if (isBiasOf(b, a)) out = biasAdd(backend, b, a);
    return out ?? call(addOrig, backend, inputs, args.attrs);
  }

  return {
    conv2D,
    fusedConv2D,
    add,
    conv2DBackpropInput,
    conv2DBackpropFilter,
    conv2DBackpropFilterComposed,
    maxPoolGrad,
    batchMatMul,
    fusedMatMul,
    sum,
    identity,
    cast,
  };
}

/** MaxPoolGrad when windows neither overlap nor leave the input (e.g. 2x2 stride 2, valid). */
function maxPoolGradDisjoint(
  x: Float32Array, g: Float32Array, o: Float32Array,
  N: number, H: number, W: number, C: number, OH: number, OW: number, FH: number, FW: number, SH: number, SW: number,
): void {
  const row = W * C;
  let gi = 0;
  if (FH === 2 && FW === 2) {
    for (let n = 0; n < N; n++) {
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          const b = ((n * H + oh * SH) * W + ow * SW) * C;
          for (let c = 0; c < C; c++, gi++) {
            let m = -Infinity;
            let p = -1;
            let q = b + c;
            let v = x[q];
            if (v > m) { m = v; p = q; }
            q += C; v = x[q];
            if (v > m) { m = v; p = q; }
            q += row - C; v = x[q];
            if (v > m) { m = v; p = q; }
            q += C; v = x[q];
            if (v > m) { m = v; p = q; }
            if (p >= 0) o[p] = g[gi];
          }
        }
      }
    }
    return;
  }
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const b = ((n * H + oh * SH) * W + ow * SW) * C;
        for (let c = 0; c < C; c++, gi++) {
          let m = -Infinity;
          let p = -1;
          for (let kh = 0, r = b + c; kh < FH; kh++, r += row) {
            for (let kw = 0, q = r; kw < FW; kw++, q += C) {
              const v = x[q];
              if (v > m) { m = v; p = q; }
            }
          }
          if (p >= 0) o[p] = g[gi];
        }
      }
    }
  }
}

/** MaxPoolGrad for any window/stride/padding: windows may overlap (dx accumulates). */
function maxPoolGradGeneral(
  x: Float32Array, g: Float32Array, o: Float32Array,
  N: number, H: number, W: number, C: number, OH: number, OW: number, FH: number, FW: number, SH: number, SW: number,
  padTop: number, padLeft: number,
): void {
  const maxVal = new Float32Array(C);
  const maxPos = new Int32Array(C);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * SH - padTop;
      const hs = Math.max(0, h0);
      const he = Math.min(H, h0 + FH);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = ow * SW - padLeft;
        const ws = Math.max(0, w0);
        const we = Math.min(W, w0 + FW);
        maxVal.fill(-Infinity);
        maxPos.fill(-1);
        for (let h = hs; h < he; h++) {
          for (let w = ws; w < we; w++) {
            const base = ((n * H + h) * W + w) * C;
            for (let c = 0; c < C; c++) {
              const v = x[base + c];
              if (v > maxVal[c]) {
                maxVal[c] = v;
                maxPos[c] = base + c;
              }
            }
          }
        }
        const gb = ((n * OH + oh) * OW + ow) * C;
        for (let c = 0; c < C; c++) {
          const p = maxPos[c];
          if (p >= 0) o[p] += g[gb + c];
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// A small WebAssembly SIMD module for the data-movement kernels, assembled with wasmAsm.ts and
// instantiated over the wasm backend's own memory (so it reads and writes tensors in place, by heap
// byte offset); every function is a plain loop nest, documented by the pseudo-code beside it. If the
// module cannot be built (no SIMD), the kernels use their JS loops instead.
// ---------------------------------------------------------------------------------------------

interface SimdModule {
  /**
   * MaxPoolGrad over NHWC, C % 4 == 0; dx must be zeroed. Pointers are heap byte offsets.
   * (x, dy, dx, N, H, W, C, OH, OW, FH, FW, SH, SW, padTop, padLeft)
   */
  maxPoolGrad(...args: number[]): void;
  /** total[c] += sum_r x[r, c], C % 4 == 0, rows summed in f32 blocks of 256. (x, rows, C, partial, total) */
  sumRows(x: number, rows: number, c: number, partial: number, total: number): void;
  /** dst[c][b][a] = src[a][b][c], 4-byte elements. (src, dst, A, B, C) */
  transpose3(src: number, dst: number, a: number, b: number, c: number): void;
  /** dst[b][a][:] = src[a][b][:], rows of rowBytes bytes. (src, dst, A, B, rowBytes) */
  swapOuter(src: number, dst: number, a: number, b: number, rowBytes: number): void;
}

/** The geometry a tiled max-pool gradient module is specialised for (windows FH x FW, stride = window). */
interface MaxPoolTiledKey {
  FH: number;
  FW: number;
  W: number;
  C: number;
  OW: number;
}

function maxPoolGradTiledFor(backend: unknown, key: MaxPoolTiledKey): { maxPoolGradTiled(x: number, dy: number, dx: number, rows: number): void } | null {
  return moduleFor(backend, `max-pool-grad-tiled:${JSON.stringify(key)}`, () => assembleModule([maxPoolGradTiledFn(key)]));
}

/**
 * maxPoolGrad's arithmetic when the windows tile the input (stride = window, no padding, OH*FH = H,
 * OW*FW = W), with the window unrolled: every dx element is written once (no zeroing, no sums).
 * for each row block r (N*OH of them: FH input rows), ow, 4-channel group:
 *   v[i] = x at window position i (row-major); m = pmax(-inf, v[0], v[1], ..); taken = !(m > -inf)
 *   for i in order: eq = (v[i] == m) & !taken; taken |= eq; dx at i = dy & eq
 */
function maxPoolGradTiledFn(k: MaxPoolTiledKey): FnDef {
  const { FH, FW, W, C, OW } = k;
  const [x, dy, dx, rows] = [0, 1, 2, 3];
  let l = 4;
  const [r, ow, cb, xo, dxo, g] = Array.from({ length: 6 }, () => l++);
  const i32Locals = l - 4;
  const v = Array.from({ length: FH * FW }, () => l++);
  const [m, taken, gv, eq, ninf] = Array.from({ length: 5 }, () => l++);
  const v128Locals = l - 4 - i32Locals;
  const blockBytes = FH * W * C * 4;
  const at = (i: number) => (Math.floor(i / FW) * W + (i % FW)) * C * 4; // window position i, bytes from its corner
  const group: Code = [...get(ninf), ...set(m)];
  // m = pmax(m, v[i]) (m < v ? v : m: NaN never wins), as maxPoolGrad's window loop
  v.forEach((vi, i) => group.push(...get(m), ...get(xo), ...get(cb), ...ADD, ...vLoad(at(i)), ...tee(vi), ...F32X4_PMAX, ...set(m)));
  group.push(...get(m), ...get(ninf), ...F32X4_GT, ...V_NOT, ...set(taken), ...get(g), ...get(cb), ...ADD, ...V_LOAD, ...set(gv));
  v.forEach((vi, i) => {
    group.push(
      ...get(vi), ...get(m), ...F32X4_EQ, ...get(taken), ...V_ANDNOT, ...set(eq),
      ...get(taken), ...get(eq), ...V_OR, ...set(taken),
      ...get(dxo), ...get(cb), ...ADD, ...get(gv), ...get(eq), ...V_AND, ...vStore(at(i)),
    );
  });
  const body: Code = [
    ...F32_CONST_NEG_INF, ...F32X4_SPLAT, ...set(ninf),
    ...get(dy), ...set(g),
    ...forRange(r, i32(0), get(rows), i32(1), [
      ...forRange(ow, i32(0), i32(OW), i32(1), [
        ...get(r), ...i32(blockBytes), ...MUL, ...get(ow), ...i32(FW * C * 4), ...MUL, ...ADD, ...set(xo),
        ...get(xo), ...get(dx), ...ADD, ...set(dxo),
        ...get(xo), ...get(x), ...ADD, ...set(xo),
        ...forRange(cb, i32(0), i32(C * 4), i32(16), group),
        ...get(g), ...i32(C * 4), ...ADD, ...set(g),
      ]),
    ]),
  ];
  return { exportName: 'maxPoolGradTiled', params: 4, i32Locals, v128Locals, body };
}

/** The SIMD helper module for this backend's memory, or null when it cannot be used. */
function simdFor(backend: unknown): SimdModule | null {
  return moduleFor<SimdModule>(backend, 'training-kernels', assembleSimdModule);
}


function assembleSimdModule(): Uint8Array {
  return assembleModule([maxPoolGradFn(), sumRowsFn(), transpose3Fn(), swapOuterFn()]);
}

/**
 * for n, oh, ow, 4-channel group:
 *   m = max over the window (pmax: NaN never wins); lanes where m is -inf take no gradient
 *   for each window position in row-major order: eq = (x == m) & !taken; taken |= eq; dx += dy & eq
 */
function maxPoolGradFn(): FnDef {
  // params
  const [x, dy, dx, N, H, W, C, OH, OW, FH, FW, SH, SW, PT, PL] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
  // i32 locals
  let l = 15;
  const [n, oh, ow, cb, h, w, hs, he, ws, we, h0, w0, rowB, imgB, cB, xImg, dxImg, g, hOff, off] = Array.from({ length: 20 }, () => l++);
  // v128 locals
  const [m, taken, gv, eq, ninf] = Array.from({ length: 5 }, () => l++);
  const windowLoop = (inner: Code): Code =>
    forRange(h, get(hs), get(he), i32(1), [
      ...get(h), ...get(rowB), ...MUL, ...get(cb), ...ADD, ...set(hOff),
      ...forRange(w, get(ws), get(we), i32(1), [
        ...get(hOff), ...get(w), ...get(cB), ...MUL, ...ADD, ...set(off),
        ...inner,
      ]),
    ]);
  const body: Code = [
    ...get(C), ...i32(4), ...MUL, ...set(cB),
    ...get(W), ...get(cB), ...MUL, ...set(rowB),
    ...get(H), ...get(rowB), ...MUL, ...set(imgB),
    ...F32_CONST_NEG_INF, ...F32X4_SPLAT, ...set(ninf),
    ...get(dy), ...set(g),
    ...forRange(n, i32(0), get(N), i32(1), [
      ...get(x), ...get(n), ...get(imgB), ...MUL, ...ADD, ...set(xImg),
      ...get(dx), ...get(n), ...get(imgB), ...MUL, ...ADD, ...set(dxImg),
      ...forRange(oh, i32(0), get(OH), i32(1), [
        ...get(oh), ...get(SH), ...MUL, ...get(PT), ...SUB, ...set(h0),
        ...max(get(h0), i32(0)), ...set(hs),
        ...min([...get(h0), ...get(FH), ...ADD], get(H)), ...set(he),
        ...forRange(ow, i32(0), get(OW), i32(1), [
          ...get(ow), ...get(SW), ...MUL, ...get(PL), ...SUB, ...set(w0),
          ...max(get(w0), i32(0)), ...set(ws),
          ...min([...get(w0), ...get(FW), ...ADD], get(W)), ...set(we),
          ...forRange(cb, i32(0), get(cB), i32(16), [
            ...get(ninf), ...set(m),
            ...windowLoop([...get(m), ...get(xImg), ...get(off), ...ADD, ...V_LOAD, ...F32X4_PMAX, ...set(m)]),
            ...get(m), ...get(ninf), ...F32X4_GT, ...V_NOT, ...set(taken),
            ...get(g), ...get(cb), ...ADD, ...V_LOAD, ...set(gv),
            ...windowLoop([
              ...get(xImg), ...get(off), ...ADD, ...V_LOAD, ...get(m), ...F32X4_EQ, ...get(taken), ...V_ANDNOT, ...set(eq),
              ...get(taken), ...get(eq), ...V_OR, ...set(taken),
              ...get(dxImg), ...get(off), ...ADD,
              ...get(dxImg), ...get(off), ...ADD, ...V_LOAD, ...get(gv), ...get(eq), ...V_AND, ...F32X4_ADD,
              ...V_STORE,
            ]),
          ]),
          ...get(g), ...get(cB), ...ADD, ...set(g),
        ]),
      ]),
    ]),
  ];
  return { exportName: 'maxPoolGrad', params: 15, i32Locals: 20, v128Locals: 5, body };
}

/**
 * for each block of 256 rows: partial = 0; partial += x[r] for r in block; total += partial
 */
function sumRowsFn(): FnDef {
  const [x, rows, C, partial, total] = [0, 1, 2, 3, 4];
  let l = 5;
  const [cB, xa, r, rEnd, cb, blk] = Array.from({ length: 6 }, () => l++);
  const overC = (inner: Code) => forRange(cb, i32(0), get(cB), i32(16), inner);
  const body: Code = [
    ...get(C), ...i32(4), ...MUL, ...set(cB),
    ...get(x), ...set(xa),
    ...forRange(blk, i32(0), get(rows), i32(256), [
      ...min([...get(blk), ...i32(256), ...ADD], get(rows)), ...set(rEnd),
      ...overC([...get(partial), ...get(cb), ...ADD, ...V_ZERO, ...V_STORE]),
      ...forRange(r, get(blk), get(rEnd), i32(1), [
        ...overC([
          ...get(partial), ...get(cb), ...ADD,
          ...get(partial), ...get(cb), ...ADD, ...V_LOAD, ...get(xa), ...get(cb), ...ADD, ...V_LOAD, ...F32X4_ADD,
          ...V_STORE,
        ]),
        ...get(xa), ...get(cB), ...ADD, ...set(xa),
      ]),
      ...overC([
        ...get(total), ...get(cb), ...ADD,
        ...get(total), ...get(cb), ...ADD, ...V_LOAD, ...get(partial), ...get(cb), ...ADD, ...V_LOAD, ...F32X4_ADD,
        ...V_STORE,
      ]),
    ]),
  ];
  return { exportName: 'sumRows', params: 5, i32Locals: 6, v128Locals: 0, body };
}

/** for b: for a: for c: dst[(c*B + b)*A + a] = src[(a*B + b)*C + c] */
function transpose3Fn(): FnDef {
  const [src, dst, A, B, C] = [0, 1, 2, 3, 4];
  let l = 5;
  const [a, b, c, sa, da, sStep, dStep] = Array.from({ length: 7 }, () => l++);
  const body: Code = [
    ...get(B), ...get(C), ...MUL, ...i32(4), ...MUL, ...set(sStep), // bytes between a and a+1 in src
    ...get(B), ...get(A), ...MUL, ...i32(4), ...MUL, ...set(dStep), // bytes between c and c+1 in dst
    ...forRange(b, i32(0), get(B), i32(1), [
      ...forRange(a, i32(0), get(A), i32(1), [
        // sa = src + (a*B + b)*C*4 ; da = dst + (b*A + a)*4
        ...get(src), ...get(a), ...get(sStep), ...MUL, ...ADD, ...get(b), ...get(C), ...MUL, ...i32(4), ...MUL, ...ADD, ...set(sa),
        ...get(dst), ...get(b), ...get(A), ...MUL, ...get(a), ...ADD, ...i32(4), ...MUL, ...ADD, ...set(da),
        ...forRange(c, i32(0), get(C), i32(1), [
          ...get(da), ...get(sa), ...F32_LOAD, 0x38, 2, 0, // f32.store
          ...get(sa), ...i32(4), ...ADD, ...set(sa),
          ...get(da), ...get(dStep), ...ADD, ...set(da),
        ]),
      ]),
    ]),
  ];
  return { exportName: 'transpose3', params: 5, i32Locals: 7, v128Locals: 0, body };
}

/** for a: for b: memory.copy(dst + (b*A + a)*R, src + (a*B + b)*R, R) */
function swapOuterFn(): FnDef {
  const [src, dst, A, B, R] = [0, 1, 2, 3, 4];
  let l = 5;
  const [a, b, sa] = Array.from({ length: 3 }, () => l++);
  const body: Code = [
    ...get(src), ...set(sa),
    ...forRange(a, i32(0), get(A), i32(1), [
      ...forRange(b, i32(0), get(B), i32(1), [
        ...get(dst), ...get(b), ...get(A), ...MUL, ...get(a), ...ADD, ...get(R), ...MUL, ...ADD,
        ...get(sa), ...get(R),
        0xfc, 10, 0, 0, // memory.copy
        ...get(sa), ...get(R), ...ADD, ...set(sa),
      ]),
    ]),
  ];
  return { exportName: 'swapOuter', params: 5, i32Locals: 3, v128Locals: 0, body };
}
