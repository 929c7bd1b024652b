/**
 * Direct NHWC convolutions in WebAssembly SIMD for tfjs's wasm backend: the forward convolution
 * (Conv2D / FusedConv2D, also used for the input gradient), the filter gradient, and a bias add
 * (x [.., C] + b [C]). Registered, with delegation of everything else, by wasmKernels.ts.
 *
 * XNNPACK (tfjs's wasm Conv2D) is slow on a first layer ([n, 28, 28, 1] x [3, 3, 1, 32], a 9-term
 * dot product per output: ~15 GFLOP/s against ~30 on wider layers). A register-blocked direct loop
 * (2 output pixels x 16 output channels in 8 SIMD accumulators, splat(x) * w) runs at ~35-40:
 * measured (x64, one thread) 2.3x XNNPACK on the small CNN's first layer, 1.2x on its second, 1.6x
 * on that layer's input gradient (padding is skipped, not read); the filter gradient (2 taps x 16
 * channels) 1.8x the XNNPACK composition. Modules are generated per geometry (filter, channels,
 * strides, input size, padding, bias/relu), so strides and bounds are constants.
 *
 * Numerics of the convolution: each output starts from the bias (fused) or 0, adds x * w over the
 * taps (kh, kw, ci) inside the input in that order, then relu (acc < 0 ? 0 : acc). That is
 * XNNPACK's order (it adds zeros for padding, which leaves a sum unchanged): with separate multiply
 * and add (CLW_WASM_FMA=0) Conv2D and FusedConv2D give bitwise tfjs's results (tested); with fused
 * multiply-add (the default, wasmAsm.ts `madd`) each step rounds once instead of twice. Each output
 * depends only on its own image: a batch computed in chunks gives bitwise the same values, and
 * every thread runs the same code (same bits).
 */
import {
  ADD, F32X4_ADD, F32X4_PMAX, MUL, SUB, V_LOAD, V_STORE, V_ZERO, assembleModule, forRange, get, madd, i32, max, min, moduleFor,
  heapOffset, vLoad, vLoad32Splat, vStore, set, type Code, type FnDef, type HeapBackend, type HeapTensor,
} from './wasmAsm';



/**
 * Direct convolution up to this many filter taps per output channel (KH * KW * CI); XNNPACK above.
 * Measured faster than XNNPACK from 3x3x1 to 3x3x128 (1.1-2.5x), on par at 3x3x256; unmeasured beyond.
 */
export const DIRECT_CONV_MAX_TAPS = 2304;

/** The geometry the direct convolution needs (a subset of tfjs's Conv2DInfo). */
export interface DirectConvGeometry {
  batchSize: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padInfo: { top: number; left: number };
}

/** Whether the direct kernel handles this convolution (the caller delegates the rest to XNNPACK). */
export function directConvApplies(g: DirectConvGeometry): boolean {
  return (
    g.inChannels >= 1 &&
    g.filterHeight * g.filterWidth * g.inChannels <= DIRECT_CONV_MAX_TAPS &&
    g.outChannels > 0 &&
    g.outChannels % 4 === 0 &&
    g.dilationHeight === 1 &&
    g.dilationWidth === 1 &&
    g.outHeight > 0 &&
    g.outWidth > 0 &&
    g.batchSize > 0
  );
}

interface ConvModule {
  /** (x, w, bias, out, N); pointers are heap byte offsets (the geometry, bias and relu are built in). */
  conv(x: number, w: number, bias: number, out: number, n: number): void;
}

interface FilterGradModule {
  /** (x, dy, out, N, HP, OH, OW); out must be zeroed; pointers are heap byte offsets. */
  filterGrad(x: number, dy: number, out: number, n: number, hp: number, oh: number, ow: number): void;
}

interface BiasAddModule {
  /** out[r, c] = x[r, c] + b[c], C % 4 == 0. (x, b, out, rows, C) */
  biasAdd(x: number, b: number, out: number, rows: number, c: number): void;
}

/** The geometry a generated convolution module is specialised for. */
interface ConvGeometryKey {
  KH: number;
  KW: number;
  CI: number;
  CO: number;
  SH: number;
  SW: number;
  H: number;
  W: number;
  TOP: number;
  LEFT: number;
  OH: number;
  OW: number;
  bias: boolean;
  relu: boolean;
}

/** The geometry a generated filter-gradient module is specialised for. */
interface FilterGradKey extends Pick<ConvGeometryKey, 'KH' | 'KW' | 'CI' | 'CO' | 'SH' | 'SW'> {
  /** Width of the (padded) input the kernel reads. */
  WP: number;
}

const calls = { conv: 0, filterGrad: 0, biasAdd: 0 };
/** How many convolutions, filter gradients and bias adds these kernels computed in this thread (tests, benchmarks). */
export function directKernelCalls(): { conv: number; filterGrad: number; biasAdd: number } {
  return { ...calls };
}


/**
 * out = [relu](conv2d(x, filter) [+ bias]) computed directly; null when the SIMD module is
 * unavailable (the caller delegates). The geometry must satisfy directConvApplies.
 */
export function directConv2d(
  backend: HeapBackend,
  x: HeapTensor,
  filter: HeapTensor,
  bias: HeapTensor | null,
  relu: boolean,
  g: DirectConvGeometry,
): HeapTensor | null {
  const { batchSize: N, inChannels: CI, outHeight: OH, outWidth: OW, outChannels: CO } = g;
  const { filterHeight: KH, filterWidth: KW, strideHeight: SH, strideWidth: SW } = g;
  const shape: ConvGeometryKey = {
    KH, KW, CI, CO, SH, SW, H: g.inHeight, W: g.inWidth, TOP: g.padInfo.top, LEFT: g.padInfo.left, OH, OW, bias: bias != null, relu,
  };
  const m = moduleFor<ConvModule>(backend, `direct-conv:${JSON.stringify(shape)}`, () => assembleModule([convFn(shape)]));
  if (!m) return null;
  const out = backend.makeOutput([N, OH, OW, CO], 'float32');
  m.conv(heapOffset(backend, x), heapOffset(backend, filter), bias ? heapOffset(backend, bias) : 0, heapOffset(backend, out), N);
  calls.conv++;
  return out;
}

/**
 * The filter gradient dW[kh, kw, ci, co] = sum over images n, then output pixels (oh, ow) in order,
 * of x[n, oh*SH + kh - top, ow*SW + kw - left, ci] * dy[n, oh, ow, co]: each image's sum in f32
 * registers, added to dW image by image (the order of the engine's earlier direct kernel for up to
 * 4 input channels, so the first layer's gradient keeps its bits; wider layers' differ from the
 * XNNPACK composition's at float32 rounding). Blocked over 2 consecutive taps (kw, ci) x 16 output
 * channels; padding is a zero-filled copy of x. Null when the module is unavailable; the geometry
 * must satisfy directConvApplies.
 */
export function directConvFilterGrad(
  backend: HeapBackend,
  x: HeapTensor,
  dy: HeapTensor,
  g: DirectConvGeometry,
): HeapTensor | null {
  const { inChannels: CI, outHeight: OH, outWidth: OW, outChannels: CO } = g;
  const { filterHeight: KH, filterWidth: KW, strideHeight: SH, strideWidth: SW } = g;
  const rows = readRows(g);
  const shape: FilterGradKey = { KH, KW, CI, CO, SH, SW, WP: rows.WP };
  const m = moduleFor<FilterGradModule>(backend, `direct-conv-filter-grad:${JSON.stringify(shape)}`, () =>
    assembleModule([filterGradFn(shape)]),
  );
  if (!m) return null;
  const src = rows.inPlace ? x : paddedCopy(backend, x, g, rows);
  const out = backend.makeOutput([KH, KW, CI, CO], 'float32');
  (backend.typedArrayFromHeap(out) as Float32Array).fill(0);
  m.filterGrad(heapOffset(backend, src), heapOffset(backend, dy), heapOffset(backend, out), g.batchSize, rows.HP, OH, OW);
  if (src !== x) backend.disposeData(src.dataId);
  calls.filterGrad++;
  return out;
}

/** The input rows/columns a convolution reads, padding included; padding (or cropping) needs a copy. */
function readRows(g: DirectConvGeometry): { HP: number; WP: number; inPlace: boolean } {
  const HP = (g.outHeight - 1) * g.strideHeight + g.filterHeight;
  const WP = (g.outWidth - 1) * g.strideWidth + g.filterWidth;
  const inPlace = g.padInfo.top === 0 && g.padInfo.left === 0 && HP <= g.inHeight && WP <= g.inWidth;
  return inPlace ? { HP: g.inHeight, WP: g.inWidth, inPlace } : { HP, WP, inPlace };
}

/** x zero-padded (or cropped) to [N, HP, WP, CI]: row hr of a padded image holds input row hr - top. */
function paddedCopy(backend: HeapBackend, x: HeapTensor, g: DirectConvGeometry, rows: { HP: number; WP: number }): HeapTensor {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: CI } = g;
  const { HP, WP } = rows;
  const top = g.padInfo.top;
  const left = g.padInfo.left;
  const src = backend.makeOutput([N, HP, WP, CI], 'float32');
  const s = backend.typedArrayFromHeap(x) as Float32Array;
  const o = backend.typedArrayFromHeap(src) as Float32Array;
  o.fill(0);
  const h0 = Math.max(0, top);
  const h1 = Math.min(HP, H + top);
  const w0 = Math.max(0, left);
  const w1 = Math.min(WP, W + left);
  if (h0 < h1 && w0 < w1) {
    const len = (w1 - w0) * CI;
    for (let n = 0; n < N; n++) {
      for (let hr = h0; hr < h1; hr++) {
        const from = ((n * H + hr - top) * W + (w0 - left)) * CI;
        o.set(s.subarray(from, from + len), ((n * HP + hr) * WP + w0) * CI);
      }
    }
  }
  return src;
}

/** x [.., C] + b [C] (float32, C % 4 == 0) in one SIMD pass; null when the module is unavailable. */
export function biasAdd(backend: HeapBackend, x: HeapTensor, b: HeapTensor): HeapTensor | null {
  const m = moduleFor<BiasAddModule>(backend, 'bias-add', () => assembleModule([biasAddFn()]));
  if (!m) return null;
  const C = b.shape.length === 0 ? 1 : b.shape[b.shape.length - 1];
  const rows = x.shape.reduce((p, q) => p * q, 1) / C;
  const out = backend.makeOutput(x.shape, 'float32');
  m.biasAdd(heapOffset(backend, x), heapOffset(backend, b), heapOffset(backend, out), rows, C);
  calls.biasAdd++;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Module generation. Pseudo-code of `conv` (V vectors of 4 output channels, P = 8 / V pixels):
//   for n, oh: rows [khs, khe) of the filter fall inside the input
//     for each block cb of 4V output channels:
//       for ow in [0, OW): border columns (the window crosses the padding) one at a time, with the
//       filter columns [kws, kwe) inside the input; interior columns in steps of P (then single):
//         acc[p][j] = bias ? b[cb + 4j .. +4] : 0
//         for kh in [khs, khe): for t over the contiguous (kw, ci) values of the window's row:
//           acc[p][j] += splat(x[n, oh*SH + kh - top, (ow+p)*SW + kw - left, ci]) * w[kh, kw, ci, cb + 4j .. +4]
//         [acc = acc < 0 ? 0 : acc (relu; pmax: NaN stays NaN)]
//         out[n, oh, ow+p, cb + 4j ..] = acc[p][j]
// The tap loop stays a loop: unrolled (fully, or by 2), V8's TurboFan hoists the weight loads of
// the unrolled taps and spills them (measured 1.3-1.6x slower); as a loop, 8 accumulators + V
// weights + a splat fit the 16 SIMD registers. Bias and relu are compiled in (no branch per block).
// ---------------------------------------------------------------------------------------------

/** The `conv` function for one geometry (pseudo-code above). */
function convFn(s: ConvGeometryKey): FnDef {
  const { KH, KW, CI, CO, SH, SW, H, W, TOP, LEFT, OH, OW } = s;
  const V = CO % 16 === 0 ? 4 : CO % 8 === 0 ? 2 : 1;
  const PIXELS = 8 / V;
  // Output columns whose window lies inside the input (no padding read): [owLo, owHi).
  const owLo = Math.min(OW, Math.ceil(LEFT / SW));
  const owHi = Math.max(owLo, Math.min(OW, Math.floor((W - KW + LEFT) / SW) + 1));
  const [x, w, bias, out, N] = [0, 1, 2, 3, 4];
  let l = 5;
  const [n, oh, xrow, orow, cb, ow, px, po, wcb, bcb, kh, khs, khe, kws, kwe, xk, xt, xEnd, wt] = Array.from({ length: 19 }, () => l++);
  const i32Locals = l - 5;
  const acc = Array.from({ length: PIXELS * V }, () => l++);
  const wv = Array.from({ length: V }, () => l++);
  const sv = l++;
  const zero = l++;
  const v128Locals = l - 5 - i32Locals;
  const a = (p: number, j: number) => acc[p * V + j];
  const rowBytes = W * CI * 4;

  /**
   * One block of P pixels x V vectors at (px, po, wcb, bcb); filter rows [khs, khe) and, with
   * `clipped`, filter columns [kws, kwe) only (the window's part inside the input).
   */
  const block = (P: number, clipped: boolean): Code => {
    const code: Code = [];
    // Accumulators start at the bias (as XNNPACK's do), else 0.
    for (let j = 0; j < V; j++) {
      code.push(...(s.bias ? [...get(bcb), ...vLoad(16 * j)] : V_ZERO), ...set(a(0, j)));
      for (let p = 1; p < P; p++) code.push(...get(a(0, j)), ...set(a(p, j)));
    }
    // acc[p][j] += splat(x at xt + p*SW*CI*4) * w at wt + 16j
    const tap: Code = [];
    for (let j = 0; j < V; j++) tap.push(...get(wt), ...vLoad(16 * j), ...set(wv[j]));
    for (let p = 0; p < P; p++) {
      tap.push(...get(xt), ...vLoad32Splat(p * SW * CI * 4), ...set(sv));
      for (let j = 0; j < V; j++) tap.push(...madd(get(a(p, j)), get(sv), get(wv[j])), ...set(a(p, j)));
    }
    const first: Code = clipped ? [...get(kws), ...i32(CI), ...MUL] : i32(0); // first tap of a row, in (kw, ci) units
    code.push(
      ...forRange(kh, get(khs), get(khe), i32(1), [
        // xt = px + kh*rowBytes + first*4 ; wt = wcb + (kh*KW*CI + first) * CO*4
        ...get(px), ...get(kh), ...i32(rowBytes), ...MUL, ...ADD, ...set(xk),
        ...get(xk), ...first, ...i32(4), ...MUL, ...ADD, ...set(xt),
        ...get(xk), ...(clipped ? [...get(kwe), ...i32(CI * 4), ...MUL] : i32(KW * CI * 4)), ...ADD, ...set(xEnd),
        ...get(kh), ...i32(KW * CI), ...MUL, ...first, ...ADD, ...i32(CO * 4), ...MUL, ...get(wcb), ...ADD, ...set(wt),
        ...forRange(xt, get(xt), get(xEnd), i32(4), [
          ...tap,
          ...get(wt), ...i32(CO * 4), ...ADD, ...set(wt),
        ]),
      ]),
    );
    if (s.relu) {
      for (let p = 0; p < P; p++) {
        for (let j = 0; j < V; j++) code.push(...get(a(p, j)), ...get(zero), ...F32X4_PMAX, ...set(a(p, j)));
      }
    }
    for (let p = 0; p < P; p++) {
      for (let j = 0; j < V; j++) code.push(...get(po), ...get(a(p, j)), ...vStore((p * CO + 4 * j) * 4));
    }
    return code;
  };
  /** px = xrow + (ow*SW - LEFT)*CI*4 (the window's first column, maybe outside); po = orow + ow*CO*4 + cb */
  const at: Code = [
    ...get(ow), ...i32(SW), ...MUL, ...i32(LEFT), ...SUB, ...i32(CI * 4), ...MUL, ...get(xrow), ...ADD, ...set(px),
    ...get(orow), ...get(ow), ...i32(CO * 4), ...MUL, ...ADD, ...get(cb), ...ADD, ...set(po),
  ];
  /** Filter columns inside the input for pixel ow: [max(0, LEFT - ow*SW), min(KW, W + LEFT - ow*SW)). */
  const columns: Code = [
    ...max([...i32(LEFT), ...get(ow), ...i32(SW), ...MUL, ...SUB], i32(0)), ...set(kws),
    ...min([...i32(W + LEFT), ...get(ow), ...i32(SW), ...MUL, ...SUB], i32(KW)), ...set(kwe),
  ];
  const border = (from: Code, to: Code): Code => forRange(ow, from, to, i32(1), [...at, ...columns, ...block(1, true)]);
  const body: Code = [
    ...V_ZERO, ...set(zero),
    ...forRange(n, i32(0), get(N), i32(1), [
      ...forRange(oh, i32(0), i32(OH), i32(1), [
        // Filter rows inside the input: [max(0, TOP - oh*SH), min(KH, H + TOP - oh*SH)).
        ...max([...i32(TOP), ...get(oh), ...i32(SH), ...MUL, ...SUB], i32(0)), ...set(khs),
        ...min([...i32(H + TOP), ...get(oh), ...i32(SH), ...MUL, ...SUB], i32(KH)), ...set(khe),
        // xrow = x + ((n*H + oh*SH - TOP) * W) * CI*4 (the window's first row, maybe outside); orow = out + (n*OH + oh) * OW * CO*4
        ...get(n), ...i32(H), ...MUL, ...get(oh), ...i32(SH), ...MUL, ...ADD, ...i32(TOP), ...SUB, ...i32(rowBytes), ...MUL, ...get(x), ...ADD, ...set(xrow),
        ...get(n), ...i32(OH), ...MUL, ...get(oh), ...ADD, ...i32(OW * CO * 4), ...MUL, ...get(out), ...ADD, ...set(orow),
        ...forRange(cb, i32(0), i32(CO * 4), i32(16 * V), [
          ...get(w), ...get(cb), ...ADD, ...set(wcb),
          ...get(bias), ...get(cb), ...ADD, ...set(bcb),
          ...border(i32(0), i32(owLo)),
          // forRange leaves ow at the first pixel it did not process.
          ...forRange(ow, i32(owLo), i32(owHi - PIXELS + 1), i32(PIXELS), [...at, ...block(PIXELS, false)]),
          ...forRange(ow, get(ow), i32(owHi), i32(1), [...at, ...block(1, false)]),
          ...border(i32(owHi), i32(OW)),
        ]),
      ]),
    ]),
  ];
  return { exportName: 'conv', params: 5, i32Locals, v128Locals, body };
}

/**
 * for n: for kh: for taps t, t+1 of the row's KW*CI (kw, ci) values (then a single one):
 *   for each block cb of 4V output channels:
 *     acc[p][j] = 0
 *     for oh, ow: acc[p][j] += splat(x[n, oh*SH + kh, ow*SW, t + p]) * dy[n, oh, ow, cb + 4j .. +4]
 *     dW[kh, t + p, cb + 4j ..] += acc[p][j]
 */
function filterGradFn(s: FilterGradKey): FnDef {
  const { KH, KW, CI, CO, SH, SW, WP } = s;
  const V = CO % 16 === 0 ? 4 : CO % 8 === 0 ? 2 : 1;
  const TAPS = 8 / V;
  const R = KW * CI; // taps in a filter row, contiguous in x
  const [x, dy, out, N, HP, OH, OW] = [0, 1, 2, 3, 4, 5, 6];
  let l = 7;
  const [n, kh, t, cb, oh, xImg, dyImg, xp, dp, dEnd, op] = Array.from({ length: 11 }, () => l++);
  const i32Locals = l - 7;
  const acc = Array.from({ length: TAPS * V }, () => l++);
  const dv = Array.from({ length: V }, () => l++);
  const sv = l++;
  const v128Locals = l - 7 - i32Locals;
  const a = (p: number, j: number) => acc[p * V + j];
  /** TAPS = P taps from t, one block cb, all pixels of image n. */
  const block = (P: number): Code => {
    const pixel: Code = [];
    for (let j = 0; j < V; j++) pixel.push(...get(dp), ...vLoad(16 * j), ...set(dv[j]));
    for (let p = 0; p < P; p++) {
      pixel.push(...get(xp), ...vLoad32Splat(4 * p), ...set(sv));
      for (let j = 0; j < V; j++) pixel.push(...madd(get(a(p, j)), get(sv), get(dv[j])), ...set(a(p, j)));
    }
    const code: Code = [];
    for (let p = 0; p < P; p++) for (let j = 0; j < V; j++) code.push(...V_ZERO, ...set(a(p, j)));
    code.push(
      ...get(dyImg), ...get(cb), ...ADD, ...set(dp),
      ...forRange(oh, i32(0), get(OH), i32(1), [
        // xp = xImg + ((oh*SH + kh) * WP * CI + t) * 4 ; the row's OW pixels step SW*CI*4
        ...get(oh), ...i32(SH), ...MUL, ...get(kh), ...ADD, ...i32(WP * CI * 4), ...MUL, ...get(xImg), ...ADD,
        ...get(t), ...i32(4), ...MUL, ...ADD, ...set(xp),
        ...get(dp), ...get(OW), ...i32(CO * 4), ...MUL, ...ADD, ...set(dEnd),
        ...forRange(dp, get(dp), get(dEnd), i32(CO * 4), [
          ...pixel,
          ...get(xp), ...i32(SW * CI * 4), ...ADD, ...set(xp),
        ]),
      ]),
      // op = out + ((kh*R + t) * CO) * 4 + cb
      ...get(kh), ...i32(R), ...MUL, ...get(t), ...ADD, ...i32(CO * 4), ...MUL, ...get(out), ...ADD, ...get(cb), ...ADD, ...set(op),
    );
    for (let p = 0; p < P; p++) {
      for (let j = 0; j < V; j++) {
        const off = (p * CO + 4 * j) * 4;
        code.push(...get(op), ...get(op), ...vLoad(off), ...get(a(p, j)), ...F32X4_ADD, ...vStore(off));
      }
    }
    return code;
  };
  const overBlocks = (P: number): Code => forRange(cb, i32(0), i32(CO * 4), i32(16 * V), block(P));
  const body: Code = [
    ...forRange(n, i32(0), get(N), i32(1), [
      ...get(n), ...get(HP), ...MUL, ...i32(WP * CI * 4), ...MUL, ...get(x), ...ADD, ...set(xImg),
      ...get(n), ...get(OH), ...MUL, ...get(OW), ...MUL, ...i32(CO * 4), ...MUL, ...get(dy), ...ADD, ...set(dyImg),
      ...forRange(kh, i32(0), i32(KH), i32(1), [
        ...(R >= TAPS ? forRange(t, i32(0), i32(R - TAPS + 1), i32(TAPS), overBlocks(TAPS)) : [...i32(0), ...set(t)]),
        ...forRange(t, get(t), i32(R), i32(1), overBlocks(1)),
      ]),
    ]),
  ];
  return { exportName: 'filterGrad', params: 7, i32Locals, v128Locals, body };
}

/** for r: for c in steps of 4: out[r, c..] = x[r, c..] + b[c..] */
function biasAddFn(): FnDef {
  const [x, b, out, rows, C] = [0, 1, 2, 3, 4];
  let l = 5;
  const [r, c, cB, xa, oa] = Array.from({ length: 5 }, () => l++);
  const body: Code = [
    ...get(C), ...i32(4), ...MUL, ...set(cB),
    ...get(x), ...set(xa),
    ...get(out), ...set(oa),
    ...forRange(r, i32(0), get(rows), i32(1), [
      ...forRange(c, i32(0), get(cB), i32(16), [
        ...get(oa), ...get(c), ...ADD,
        ...get(xa), ...get(c), ...ADD, ...V_LOAD, ...get(b), ...get(c), ...ADD, ...V_LOAD, ...F32X4_ADD,
        ...V_STORE,
      ]),
      ...get(xa), ...get(cB), ...ADD, ...set(xa),
      ...get(oa), ...get(cB), ...ADD, ...set(oa),
    ]),
  ];
  return { exportName: 'biasAdd', params: 5, i32Locals: 5, v128Locals: 0, body };
}
