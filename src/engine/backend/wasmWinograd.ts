/**
 * Winograd convolution F(m x m, 3x3), m = 2 or 4, in WebAssembly SIMD for tfjs's wasm backend: 3x3
 * stride-1 convolutions (a forward Conv2D / FusedConv2D, and the input gradient, a stride-1 conv of
 * dy) with (m+2)² multiplies per m x m output tile and channel pair instead of 9m² (Lavin & Gray
 * 2016, Fast Algorithms for Convolutional Neural Networks, CVPR): 16 instead of 36 for F(2x2),
 * 36 instead of 144 for F(4x4).
 *
 * The direct kernels of wasmConv.ts already run at the 128-bit FMA peak, so only fewer multiplies
 * make these convolutions faster. Per call: the filter transform U = G g Gᵀ into [(m+2)²][CI][CO];
 * then blocks of tile rows (so the block's transformed input V [(m+2)²][T][CI] and products
 * M [(m+2)²][T][CO] stay in L2): the input transform V = Bᵀ d B of each tile's (m+2)² input patch
 * (4 channels per SIMD vector, zeros outside the input), (m+2)² products M[e] = V[e] · U[e] with
 * wasmGemm.ts's microkernel (at the FMA peak: ~80% of the time), and the output transform
 * Y = Aᵀ M A (+ bias, relu), storing only the tile's in-range pixels. Modules are generated per
 * geometry (tile size, channels, input and output size, padding, bias/relu): tiles touching the
 * padding are compiled as their own loops with the padding's terms dropped.
 *
 * Numerics: not the direct kernels' (nor XNNPACK's) bits: a different sum, within float32
 * rounding of the exact convolution (the transforms add roundings: relative to the output scale
 * ~1e-6 for F(2x2), ~5e-6 for F(4x4) at 32-64 input channels). Every tile is computed by the same
 * instructions in the same order wherever its block starts (the products sum over input channels
 * in order), so an output depends only on its own image (a batch computed in chunks gives the same
 * bits) and every thread gives the same bits.
 */
import {
  ADD, F32X4_ADD, F32X4_MUL, F32X4_PMAX, GE_S, LT_S, MUL, SUB, V_ZERO, assembleModule, forRange, get, heapOffset, i32, ifThen,
  moduleFor, set, simd, vLoad, vStore, type Code, type FnDef, type HeapBackend, type HeapTensor,
} from './wasmAsm';
import type { DirectConvGeometry } from './wasmConv';
import { gemmModule } from './wasmGemm';

/**
 * Fewest input channels for Winograd: with fewer the products are too short (K = CI terms) to pay
 * for the transforms. Measured against the direct kernel (x64, one thread, batch 64, 13x13 and
 * 28x28 inputs, 8-64 output channels): CI 4: 0.9-1.2x (F(2x2)), 1.2-1.3x (F(4x4)); CI 8: 1.3-1.55x,
 * 1.5-1.8x; CI 16: 1.9x, 2.6x; CI 32: 2.0x, 3.0x.
 */
export const WINOGRAD_MIN_IN_CHANNELS = 8;

/**
 * Transformed values per channel in a block (tiles x (m+2)²), so its V and M ((CI + CO) floats
 * each) stay in L2 with U: 96 tiles of F(2x2), 43 of F(4x4) (measured: 32-160 tiles of F(2x2) and
 * 32-64 of F(4x4) within 5% of each other on the small CNN's layers).
 */
const BLOCK_VALUES = 1536;

let enabled = process.env.CLW_WINOGRAD !== '0';
/**
 * Turns Winograd on or off (off: winogradApplies is false, callers take the direct kernel and its
 * bits; tests comparing against XNNPACK's bits, CLW_WINOGRAD=0); returns the previous state.
 */
export function setWinogradEnabled(on: boolean): boolean {
  const previous = enabled;
  enabled = on;
  return previous;
}

/**
 * Whether the Winograd kernel handles this convolution (and is enabled): 3x3, stride 1, no
 * dilation, channels in SIMD vectors, outputs at least 2 wide and high (a 1-wide output wastes
 * half of every 2x2 tile: [64,3,3,32]x[3,3,32,64] valid measured 0.65x the direct kernel).
 */
export function winogradApplies(g: DirectConvGeometry): boolean {
  return enabled && winograd3x3(g) && g.inChannels >= WINOGRAD_MIN_IN_CHANNELS;
}

/** 3x3, stride 1, no dilation, channels in SIMD vectors, outputs at least 2 wide and high (both Winograd kernels). */
export function winograd3x3(g: DirectConvGeometry): boolean {
  return (
    g.filterHeight === 3 &&
    g.filterWidth === 3 &&
    g.strideHeight === 1 &&
    g.strideWidth === 1 &&
    g.dilationHeight === 1 &&
    g.dilationWidth === 1 &&
    g.inChannels > 0 &&
    g.inChannels % 4 === 0 &&
    g.outChannels > 0 &&
    g.outChannels % 4 === 0 &&
    g.outHeight >= 2 &&
    g.outWidth >= 2 &&
    g.batchSize > 0
  );
}

/** The tile size m (2 or 4) whose m x m tiles of the output need fewer products ((m+2)² each), overhang included. */
export function fewerProductsTile(g: DirectConvGeometry): 2 | 4 {
  const products = (m: number) => Math.ceil(g.outHeight / m) * Math.ceil(g.outWidth / m) * (m + 2) * (m + 2);
  return products(4) < products(2) ? 4 : 2;
}

/** The geometry a generated Winograd module is specialised for. */
export interface WinogradKey {
  /** Output tile size m of F(m x m, 3 x 3) (2 or 4); input tiles are m + 2 wide. */
  M: number;
  CI: number;
  CO: number;
  H: number;
  W: number;
  TOP: number;
  LEFT: number;
  OH: number;
  OW: number;
  /** Tile rows per block (the block's tile capacity is R * TW). */
  R: number;
  bias: boolean;
  relu: boolean;
}

interface WinogradModule {
  /** U[e, ci, co] = (G g[.., .., ci, co] Gᵀ)[e] for the filter w [3, 3, CI, CO]. */
  filter(w: number, u: number): void;
  /** V[e, t, ci] for the tiles of global tile rows [g0, g1) (g = n * TH + ty), t counted from g0's first tile. */
  input(x: number, v: number, g0: number, g1: number): void;
  /** out pixels of the tiles of tile rows [g0, g1) from M[e, t, co] (+ bias, relu). */
  output(m: number, bias: number, out: number, g0: number, g1: number): void;
}

let calls = 0;
/** How many convolutions the Winograd kernel computed in this thread (tests, benchmarks). */
export function winogradKernelCalls(): number {
  return calls;
}

/**
 * A kernel's tile size m (2 or 4): forced by the environment variable `envVar` or a test's `set`, or
 * 0 (unset): the one needing fewer products for the geometry (fewerProductsTile).
 */
export function tileSetting(envVar: string): { set(m: 0 | 2 | 4): number; pick(g: DirectConvGeometry): 2 | 4 } {
  let forced = Number(process.env[envVar] ?? 0);
  return {
    set(m) {
      const previous = forced;
      forced = m;
      return previous;
    },
    pick: (g) => (forced === 2 || forced === 4 ? forced : fewerProductsTile(g)),
  };
}

const tile = tileSetting('CLW_WINOGRAD_TILE');
/**
 * Forces the output tile size m of F(m x m, 3x3) to 2 or 4, or 0: the fewer multiplies per geometry
 * (CLW_WINOGRAD_TILE=2 keeps F(2x2)'s smaller rounding error); returns the previous setting.
 */
export function setWinogradTile(m: 0 | 2 | 4): number {
  return tile.set(m);
}

/**
 * The output tile size for a geometry: F(4x4, 3x3) (36 products per 16 outputs) where its tiles
 * need fewer products than F(2x2)'s (16 per 4 outputs) despite overhanging the output more.
 * Measured (x64, one thread, batch 64): [13,13,32]x[3,3,32,64] valid 6.3 ms direct, 3.2 F(2x2),
 * 2.1 F(4x4); the input gradient [11,11,64]x[3,3,64,32] pad 2: 7.0, 4.5, 3.6. Relative error
 * (max over the output scale): F(2x2) ~1e-6, F(4x4) ~5e-6 at 32-64 input channels, ~1e-5 at 256.
 */
export function winogradTileSize(g: DirectConvGeometry): 2 | 4 {
  return tile.pick(g);
}

/**
 * out = [relu](conv2d(x, filter) [+ bias]) by Winograd F(m x m, 3x3); null when the SIMD modules
 * are unavailable (the caller falls back). The geometry must satisfy winogradApplies.
 */
export function winogradConv2d(
  backend: HeapBackend,
  x: HeapTensor,
  filter: HeapTensor,
  bias: HeapTensor | null,
  relu: boolean,
  g: DirectConvGeometry,
): HeapTensor | null {
  const { batchSize: N, inChannels: CI, outHeight: OH, outWidth: OW, outChannels: CO } = g;
  const M = winogradTileSize(g);
  const E = (M + 2) * (M + 2);
  const TH = Math.ceil(OH / M);
  const TW = Math.ceil(OW / M);
  const R = Math.max(1, Math.min(TH * N, Math.round(BLOCK_VALUES / (E * TW))));
  const key: WinogradKey = {
    M, CI, CO, H: g.inHeight, W: g.inWidth, TOP: g.padInfo.top, LEFT: g.padInfo.left, OH, OW, R, bias: bias != null, relu,
  };
  const m = moduleFor<WinogradModule>(backend, `winograd:${JSON.stringify(key)}`, () =>
    assembleModule([filterFn(key), inputFn(key), outputFn(key)]),
  );
  const gemm = gemmModule(backend, { K: CI, COLS: CO, ARS: CI * 4, APS: 4, ORS: CO * 4, OCS: 4, bias: false, relu: false });
  if (!m || !gemm) return null;
  const { uPlane, vPlane, mPlane } = planes(key);
  const u = backend.makeOutput([(E * uPlane) / 4], 'float32');
  const v = backend.makeOutput([(E * vPlane) / 4], 'float32');
  const mm = backend.makeOutput([(E * mPlane) / 4], 'float32');
  const out = backend.makeOutput([N, OH, OW, CO], 'float32');
  const [xAt, uAt, vAt, mAt, outAt] = [x, u, v, mm, out].map((t) => heapOffset(backend, t));
  const biasAt = bias ? heapOffset(backend, bias) : 0;
  m.filter(heapOffset(backend, filter), uAt);
  const rows = N * TH;
  for (let g0 = 0; g0 < rows; g0 += R) {
    const g1 = Math.min(rows, g0 + R);
    m.input(xAt, vAt, g0, g1);
    const T = (g1 - g0) * TW;
    for (let e = 0; e < E; e++) gemm.gemm(vAt + e * vPlane, uAt + e * uPlane, 0, mAt + e * mPlane, T);
    m.output(mAt, biasAt, outAt, g0, g1);
  }
  for (const t of [u, v, mm]) backend.disposeData(t.dataId);
  calls++;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Module generation, from the transform matrices (Lavin & Gray's, for correlation as conv2d):
// V = Bᵀ d B over each tile's (m+2) x (m+2) input patch d, U = G g Gᵀ, Y = Aᵀ (U ⊙ V) A. Tile
// (ty, tx) reads input rows m*ty - TOP + [0, m+2) and columns m*tx - LEFT + [0, m+2) and writes
// output rows m*ty + [0, m) and columns m*tx + [0, m) that are < OH, OW. Tile rows (and columns)
// with the same in-range pattern form one compiled class:
//   for g in [g0, g1): n = g / TH, ty = g % TH
//     for each row class containing ty: for each column class: for tx in the class:
//       for each vector of 4 channels: transform the tile (padding terms dropped)
// A transform applies a matrix one dimension at a time, each output a fixed sum of its nonzero
// terms in column order (±1 as adds and subtracts, other coefficients a rounded product then a sum),
// one column of the tile at a time re-reading its inputs from L1. Straight-line versions sharing
// partial sums (fewer operations) measured no faster or slower: keeping a whole tile's (m+2)²
// intermediates in locals makes V8 spill them, and round-tripping them through V or M costs as much
// (/work/notes/wino/wasmWinograd.cse-inplace.ts).
// ---------------------------------------------------------------------------------------------

export interface Transforms {
  BT: number[][];
  G: number[][];
  AT: number[][];
}

export const TRANSFORMS: Record<number, Transforms> = {
  2: {
    BT: [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
    G: [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]],
    AT: [[1, 1, 1, 0], [0, 1, -1, -1]],
  },
  4: {
    BT: [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0], [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]],
    G: [[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6], [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]],
    AT: [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]],
  },
};

const F32X4_SUB = simd(0xe5);
const F32X4_NEG = simd(0xe1);
const DIV_U = [0x6e];
const AND = [0x71];
/** v128.const of 4 lanes of the float32 c. */
const splatConst = (c: number): Code => simd(0x0c, ...Array.from(new Uint8Array(new Float32Array([c, c, c, c]).buffer)));

/**
 * Code leaving sum_k coefs[k] * x(k) in k order; x(k) null is a known zero (dropped); V_ZERO when
 * no term is left.
 */
export function combo(coefs: number[], x: (k: number) => Code | null): Code {
  const code: Code = [];
  let first = true;
  coefs.forEach((c, k) => {
    if (c === 0) return;
    const xk = x(k);
    if (!xk) return;
    if (first) {
      code.push(...xk);
      if (c === -1) code.push(...F32X4_NEG);
      else if (c !== 1) code.push(...splatConst(c), ...F32X4_MUL);
    } else if (c === 1) code.push(...xk, ...F32X4_ADD);
    else if (c === -1) code.push(...xk, ...F32X4_SUB);
    else code.push(...xk, ...splatConst(c), ...F32X4_MUL, ...F32X4_ADD);
    first = false;
  });
  return first ? V_ZERO : code;
}

/**
 * Byte strides of the planes of U [E][CI][CO] and a block's V [E][TB][CI] and M [E][TB][CO]: a
 * multiple of 4 KB plus 5 cache lines, so a tile's vectors are not all in one L1 set (4 KB apart;
 * measured: the transforms ran 2-4x slower with 12 KB and 24 KB strides, the filter's 10x with 8 KB).
 */
export function planes(s: WinogradKey): { uPlane: number; vPlane: number; mPlane: number } {
  const TB = s.R * Math.ceil(s.OW / s.M);
  const stride = (bytes: number) => Math.ceil(bytes / 4096) * 4096 + 320;
  return { uPlane: stride(s.CI * s.CO * 4), vPlane: stride(TB * s.CI * 4), mPlane: stride(TB * s.CO * 4) };
}

/** Consecutive indices [lo, hi) of [0, count) with the same key. */
export function classes<K>(count: number, keyOf: (i: number) => K): { lo: number; hi: number; key: K }[] {
  const out: { lo: number; hi: number; key: K }[] = [];
  for (let i = 0; i < count; i++) {
    const key = keyOf(i);
    const last = out[out.length - 1];
    if (last && JSON.stringify(last.key) === JSON.stringify(key)) last.hi = i + 1;
    else out.push({ lo: i, hi: i + 1, key });
  }
  return out;
}

/** Which of a tile's m + 2 input rows (columns) lie inside the input: tile i reads m*i - pad + [0, m+2). */
export const inside = (M: number, i: number, pad: number, size: number): boolean[] =>
  Array.from({ length: M + 2 }, (_, r) => M * i - pad + r >= 0 && M * i - pad + r < size);

/**
 * The loop over the tiles of tile rows [g0, g1) (params), one compiled body per (row class,
 * column class); locals g, n, ty, tx given.
 */
export function overTiles<A, B>(
  s: WinogradKey,
  l: { g0: number; g1: number; g: number; n: number; ty: number; tx: number },
  rowsOf: (ty: number) => A,
  colsOf: (tx: number) => B,
  body: (rows: A, cols: B) => Code,
): Code {
  const TH = Math.ceil(s.OH / s.M);
  const TW = Math.ceil(s.OW / s.M);
  const rowClasses = classes(TH, rowsOf);
  const colClasses = classes(TW, colsOf);
  const perRow: Code = [];
  for (const rc of rowClasses) {
    const cols: Code = [];
    for (const cc of colClasses) cols.push(...forRange(l.tx, i32(cc.lo), i32(cc.hi), i32(1), body(rc.key, cc.key)));
    const cond: Code = rowClasses.length === 1 ? i32(1) : [...get(l.ty), ...i32(rc.lo), ...GE_S, ...get(l.ty), ...i32(rc.hi), ...LT_S, ...AND];
    perRow.push(...ifThen(cond, cols));
  }
  return forRange(l.g, get(l.g0), get(l.g1), i32(1), [
    ...get(l.g), ...i32(TH), ...DIV_U, ...set(l.n),
    ...get(l.g), ...get(l.n), ...i32(TH), ...MUL, ...SUB, ...set(l.ty),
    ...perRow,
  ]);
}

/** filter(w, u): for each vector p of 4 (ci, co) pairs: U = G g Gᵀ (columns of g first). */
function filterFn(s: WinogradKey): FnDef {
  const { CI, CO } = s;
  const { G } = TRANSFORMS[s.M];
  const A = s.M + 2;
  const plane = CI * CO * 4;
  const { uPlane } = planes(s);
  const [w, u] = [0, 1];
  let l = 2;
  const p = l++;
  const i32Locals = l - 2;
  const gv = Array.from({ length: 9 }, () => l++);
  const tv = Array.from({ length: 3 * A }, () => l++);
  const v128Locals = l - 2 - i32Locals;
  // g[kh][kw] at w + (kh*3 + kw)*plane + p; U[i][j] at u + (i*A + j)*uPlane + p
  const step: Code = [];
  for (let k = 0; k < 9; k++) step.push(...get(w), ...get(p), ...ADD, ...vLoad(k * plane), ...set(gv[k]));
  // t = G g (A x 3), column by column; U[i] = G t[i]ᵀ
  for (let kw = 0; kw < 3; kw++) {
    for (let i = 0; i < A; i++) step.push(...combo(G[i], (kh) => get(gv[kh * 3 + kw])), ...set(tv[i * 3 + kw]));
  }
  for (let i = 0; i < A; i++) {
    for (let j = 0; j < A; j++) step.push(...get(u), ...get(p), ...ADD, ...combo(G[j], (kw) => get(tv[i * 3 + kw])), ...vStore((i * A + j) * uPlane));
  }
  return { exportName: 'filter', params: 2, i32Locals, v128Locals, body: forRange(p, i32(0), i32(plane), i32(16), step) };
}

/** input(x, v, g0, g1): V[e, t, ci..] = (Bᵀ d B)[e] over each tile's patch d, 4 channels at a time. */
export function inputFn(s: WinogradKey): FnDef {
  const { M, CI, H, W, TOP, LEFT } = s;
  const { BT } = TRANSFORMS[M];
  const A = M + 2;
  const TW = Math.ceil(s.OW / M);
  const { vPlane } = planes(s);
  const [x, v, g0, g1] = [0, 1, 2, 3];
  let l = 4;
  const [g, n, ty, tx, xp, xEnd, vp] = Array.from({ length: 7 }, () => l++);
  const i32Locals = l - 4;
  const tv = Array.from({ length: A }, () => l++);
  const v128Locals = l - 4 - i32Locals;
  const body = (rowIn: boolean[], colIn: boolean[]): Code => {
    const r0 = Math.max(0, rowIn.indexOf(true));
    const c0 = Math.max(0, colIn.indexOf(true));
    const code: Code = [
      // xp = x + ((n*H + M*ty - TOP + r0) * W + M*tx - LEFT + c0) * CI*4: the patch's first in-range pixel
      ...get(n), ...i32(H), ...MUL, ...get(ty), ...i32(M), ...MUL, ...ADD, ...i32(r0 - TOP), ...ADD, ...i32(W), ...MUL,
      ...get(tx), ...i32(M), ...MUL, ...ADD, ...i32(c0 - LEFT), ...ADD, ...i32(CI * 4), ...MUL, ...get(x), ...ADD, ...set(xp),
      ...get(xp), ...i32(CI * 4), ...ADD, ...set(xEnd),
      // vp = v + ((g - g0) * TW + tx) * CI*4
      ...get(g), ...get(g0), ...SUB, ...i32(TW), ...MUL, ...get(tx), ...ADD, ...i32(CI * 4), ...MUL, ...get(v), ...ADD, ...set(vp),
    ];
    const d = (r: number, c: number): Code | null => (rowIn[r] && colIn[c] ? [...get(xp), ...vLoad(((r - r0) * W + (c - c0)) * CI * 4)] : null);
    // Column j of d B (row r: BT[j] · d[r]), then Bᵀ of it: V[0..A)[j]. The patch is re-read from L1
    // for each column, so few registers stay live; rows wholly in the padding are dropped.
    const step: Code = [];
    for (let j = 0; j < A; j++) {
      const live = rowIn.map((inRow) => inRow && BT[j].some((c, k) => c !== 0 && colIn[k]));
      for (let r = 0; r < A; r++) if (live[r]) step.push(...combo(BT[j], (k) => d(r, k)), ...set(tv[r]));
      for (let i = 0; i < A; i++) step.push(...get(vp), ...combo(BT[i], (r) => (live[r] ? get(tv[r]) : null)), ...vStore((i * A + j) * vPlane));
    }
    step.push(...get(vp), ...i32(16), ...ADD, ...set(vp));
    code.push(...forRange(xp, get(xp), get(xEnd), i32(16), step));
    return code;
  };
  const fnBody = overTiles(s, { g0, g1, g, n, ty, tx }, (i) => inside(M, i, TOP, H), (i) => inside(M, i, LEFT, W), body);
  return { exportName: 'input', params: 4, i32Locals, v128Locals, body: fnBody };
}

/** output(m, bias, out, g0, g1): out pixels of each tile = [relu]((Aᵀ M A) [+ bias]), in-range pixels only. */
function outputFn(s: WinogradKey): FnDef {
  const { M, CO, OH, OW } = s;
  const { AT } = TRANSFORMS[M];
  const A = M + 2;
  const TW = Math.ceil(OW / M);
  const { mPlane } = planes(s);
  const [m, bias, out, g0, g1] = [0, 1, 2, 3, 4];
  let l = 5;
  const [g, n, ty, tx, mp, mEnd, op, bp] = Array.from({ length: 8 }, () => l++);
  const i32Locals = l - 5;
  const sv = Array.from({ length: A }, () => l++);
  const y = l++;
  const zero = l++;
  const v128Locals = l - 5 - i32Locals;
  const body = (rowsOut: number, colsOut: number): Code => {
    const code: Code = [
      // mp = m + ((g - g0) * TW + tx) * CO*4 ; op = out + ((n*OH + M*ty) * OW + M*tx) * CO*4
      ...get(g), ...get(g0), ...SUB, ...i32(TW), ...MUL, ...get(tx), ...ADD, ...i32(CO * 4), ...MUL, ...get(m), ...ADD, ...set(mp),
      ...get(mp), ...i32(CO * 4), ...ADD, ...set(mEnd),
      ...get(n), ...i32(OH), ...MUL, ...get(ty), ...i32(M), ...MUL, ...ADD, ...i32(OW), ...MUL,
      ...get(tx), ...i32(M), ...MUL, ...ADD, ...i32(CO * 4), ...MUL, ...get(out), ...ADD, ...set(op),
      ...get(bias), ...set(bp),
    ];
    // Column b of M A (row i: AT[b] · M[i]), then Aᵀ of it: Y[0..m)[b]; M re-read from L1 per column.
    const step: Code = [];
    for (let b = 0; b < colsOut; b++) {
      for (let i = 0; i < A; i++) step.push(...combo(AT[b], (j) => [...get(mp), ...vLoad((i * A + j) * mPlane)]), ...set(sv[i]));
      for (let a = 0; a < rowsOut; a++) {
        step.push(...combo(AT[a], (i) => get(sv[i])));
        if (s.bias) step.push(...get(bp), ...vLoad(0), ...F32X4_ADD);
        if (s.relu) step.push(...get(zero), ...F32X4_PMAX);
        step.push(...set(y), ...get(op), ...get(y), ...vStore((a * OW + b) * CO * 4));
      }
    }
    step.push(...get(op), ...i32(16), ...ADD, ...set(op));
    if (s.bias) step.push(...get(bp), ...i32(16), ...ADD, ...set(bp));
    code.push(...forRange(mp, get(mp), get(mEnd), i32(16), step));
    return code;
  };
  const fnBody: Code = [
    ...V_ZERO, ...set(zero),
    ...overTiles(s, { g0, g1, g, n, ty, tx }, (i) => Math.min(M, OH - M * i), (i) => Math.min(M, OW - M * i), body),
  ];
  return { exportName: 'output', params: 5, i32Locals, v128Locals, body: fnBody };
}
