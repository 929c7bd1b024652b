/**
 * The filter gradient of a 3x3 stride-1 convolution by Winograd's minimal filtering in WebAssembly
 * SIMD for tfjs's wasm backend (Lavin & Gray 2016, Fast Algorithms for Convolutional Neural
 * Networks, CVPR): dW[kh, kw, ci, co] = sum over images n and output pixels p of
 * x[n, p + (kh, kw) - pad, ci] * dy[n, p, co], with (m+2)² multiplies per m x m tile of dy and
 * channel pair instead of 9m²: 16 instead of 36 for m = 2, 36 instead of 144 for m = 4.
 *
 * The forward F(m x m, 3x3) of wasmWinograd.ts computes y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A per tile, so
 * sum(y ⊙ dy) = sum over e of (A dy Aᵀ)[e] (G g Gᵀ)[e] (Bᵀ d B)[e], and its derivative in g is the
 * filter gradient F(3x3, m x m) with the same matrices: dW = Gᵀ [sum over tiles of
 * (A dy Aᵀ) ⊙ (Bᵀ d B)] G. Per call, blocks of tile rows (so a block's V and D stay in L2): V =
 * Bᵀ d B of each tile's (m+2)² patch of x (wasmWinograd.ts's input transform: the same tiles, zeros
 * outside the input), D = A dy Aᵀ of each m x m tile of dy (zeros past the output), (m+2)² products
 * M[e][ci][co] += sum over the block's tiles t of V[e][t][ci] * D[e][t][co] (wasmGemm.ts's
 * microkernel, V read transposed through its strides; the first block writes M, later ones go
 * through an L1-resident scratch plane added into M); finally dW = Gᵀ M G. Measured (x64, one
 * thread, conv2 of the small CNN, x [64,13,13,32], dy [64,11,11,64]): 5.7 ms direct, 2.2-2.7 ms
 * with 4x4 tiles (GEMMs ~1.8 ms at the FMA peak, transforms ~0.6); batch 32: 2.9 -> 1.1-1.3 ms.
 *
 * Numerics: not the direct kernel's bits (wasmConv.ts's directConvFilterGrad): a different sum, within
 * float32 rounding of the exact gradient (the transforms add roundings, see winogradFilterGradTile;
 * the direct kernel's error is ~3e-7).
 * The sum over tiles runs in a fixed order (blocks of tile rows in image order, a block's tiles in
 * order) that depends only on the geometry and the batch size: a seed gives the same bits every
 * time and on every thread (same code).
 */
import {
  ADD, F32X4_ADD, MUL, SUB, assembleModule, forRange, get, heapOffset, i32, moduleFor, set, vLoad, vStore,
  type Code, type FnDef, type HeapBackend, type HeapTensor,
} from './wasmAsm';
import type { DirectConvGeometry } from './wasmConv';
import { gemmModule } from './wasmGemm';
import { TRANSFORMS, combo, inputFn, overTiles, planes, tileSetting, winograd3x3, type WinogradKey } from './wasmWinograd';

/**
 * Transformed values per channel in a block (tiles x (m+2)²), so its V and D ((CI + CO) floats
 * each) stay in L2 with M: 42 tiles of F(3x3, 4x4) (14 rows of 3 tiles at 11x11), 96 of F(3x3, 2x2).
 * Measured (x64, one thread, [64,13,13,32] -> [3,3,32,64], min of 100): 384 2.59 ms, 768 2.37,
 * 1152 2.25, 1536 2.22, 2304 2.26, 3072 2.35.
 */
const BLOCK_VALUES = 1536;

let enabled = process.env.CLW_WINOGRAD !== '0';
/**
 * Turns the Winograd filter gradient on or off (off: winogradFilterGradApplies is false, callers
 * take the direct kernel and its bits; CLW_WINOGRAD=0 too); returns the previous state.
 */
export function setWinogradFilterGradEnabled(on: boolean): boolean {
  const previous = enabled;
  enabled = on;
  return previous;
}

/**
 * Whether the Winograd filter gradient handles this convolution (and is enabled): 3x3, stride 1, no
 * dilation, channels in SIMD vectors, outputs at least 2 wide and high.
 */
export function winogradFilterGradApplies(g: DirectConvGeometry): boolean {
  return enabled && winograd3x3(g);
}

let calls = 0;
/** How many filter gradients the Winograd kernel computed in this thread (tests, benchmarks). */
export function winogradFilterGradCalls(): number {
  return calls;
}

const tile = tileSetting('CLW_WINOGRAD_GRAD_TILE');
/** Forces the dy tile size m of F(3x3, m x m) to 2 or 4, or 0: the automatic choice; returns the previous setting. */
export function setWinogradFilterGradTile(m: 0 | 2 | 4): number {
  return tile.set(m);
}

/**
 * The dy tile size for a geometry: 4 where its tiles need fewer products than tiles of 2 despite
 * overhanging dy more. Measured on conv2 (11x11 dy, batch 64, one thread): 5.7 ms direct, 4.2 with
 * tiles of 2, 2.2-2.7 with tiles of 4. Relative error (max over the output scale, against exact
 * sums): tiles of 2 <= 5e-7, tiles of 4 2-5e-6 (fuzzed pads, sizes and 4-24 channels; 2e-6 on conv2
 * at batch 64 with training magnitudes).
 */
export function winogradFilterGradTile(g: DirectConvGeometry): 2 | 4 {
  return tile.pick(g);
}

interface FilterGradModule {
  /** V[e, t, ci] for the tiles of global tile rows [g0, g1) (wasmWinograd.ts's input transform). */
  input(x: number, v: number, g0: number, g1: number): void;
  /** D[e, t, co] = (A dy Aᵀ)[e] for the tiles of tile rows [g0, g1). */
  gradient(dy: number, d: number, g0: number, g1: number): void;
  /** dst[0 .. bytes) += src (float32 vectors). */
  accumulate(src: number, dst: number, bytes: number): void;
  /** dW [3, 3, CI, CO] = Gᵀ M G from M [(m+2)²][CI][CO]. */
  filter(m: number, dw: number): void;
}

/**
 * dW [3, 3, CI, CO] of a 3x3 stride-1 convolution of x [N, H, W, CI] with dy [N, OH, OW, CO] by
 * Winograd F(3x3, m x m); null when the SIMD modules are unavailable (the caller falls back). The
 * geometry must satisfy winogradFilterGradApplies.
 */
export function winogradFilterGrad(backend: HeapBackend, x: HeapTensor, dy: HeapTensor, g: DirectConvGeometry): HeapTensor | null {
  const { batchSize: N, inChannels: CI, outHeight: OH, outWidth: OW, outChannels: CO } = g;
  const M = winogradFilterGradTile(g);
  const E = (M + 2) * (M + 2);
  const TH = Math.ceil(OH / M);
  const TW = Math.ceil(OW / M);
  const rows = N * TH;
  const R = Math.max(1, Math.min(rows, Math.round(BLOCK_VALUES / (E * TW))));
  const key: WinogradKey = {
    M, CI, CO, H: g.inHeight, W: g.inWidth, TOP: g.padInfo.top, LEFT: g.padInfo.left, OH, OW, R, bias: false, relu: false,
  };
  const m = moduleFor<FilterGradModule>(backend, `winograd-filter-grad:${JSON.stringify(key)}`, () =>
    assembleModule([inputFn(key), gradientFn(key), accumulateFn(), filterFn(key)]),
  );
  // M[e] (CI rows, CO columns) += V[e]ᵀ D[e]: row ci of V[e]ᵀ is V[e][., ci] (stride CI floats).
  const gemmFor = (K: number) => gemmModule(backend, { K, COLS: CO, ARS: 4, APS: CI * 4, ORS: CO * 4, OCS: 4, bias: false, relu: false });
  const lastTiles = (rows - Math.floor((rows - 1) / R) * R) * TW;
  const gemm = gemmFor(R * TW);
  const gemmLast = lastTiles === R * TW ? gemm : gemmFor(lastTiles);
  if (!m || !gemm || !gemmLast) return null;
  // uPlane (CI*CO) for M, vPlane (tiles*CI) for V, mPlane (tiles*CO) for D.
  const { uPlane, vPlane, mPlane } = planes(key);
  const v = backend.makeOutput([(E * vPlane) / 4], 'float32');
  const d = backend.makeOutput([(E * mPlane) / 4], 'float32');
  const sums = backend.makeOutput([(E * uPlane) / 4], 'float32');
  const block = backend.makeOutput([CI * CO], 'float32');
  const dw = backend.makeOutput([3, 3, CI, CO], 'float32');
  const [xAt, dyAt, vAt, dAt, sumsAt, blockAt, dwAt] = [x, dy, v, d, sums, block, dw].map((t) => heapOffset(backend, t));
  for (let g0 = 0; g0 < rows; g0 += R) {
    const g1 = Math.min(rows, g0 + R);
    m.input(xAt, vAt, g0, g1);
    m.gradient(dyAt, dAt, g0, g1);
    const product = g1 - g0 === R ? gemm : gemmLast;
    for (let e = 0; e < E; e++) {
      if (g0 === 0) {
        product.gemm(vAt + e * vPlane, dAt + e * mPlane, 0, sumsAt + e * uPlane, CI);
      } else {
        product.gemm(vAt + e * vPlane, dAt + e * mPlane, 0, blockAt, CI);
        m.accumulate(blockAt, sumsAt + e * uPlane, CI * CO * 4);
      }
    }
  }
  m.filter(sumsAt, dwAt);
  for (const t of [v, d, sums, block]) backend.disposeData(t.dataId);
  calls++;
  return dw;
}

// ---------------------------------------------------------------------------------------------
// Module generation. Tiles as in wasmWinograd.ts: tile (ty, tx) of tile row g = n * TH + ty covers
// dy rows m*ty + [0, m) and columns m*tx + [0, m) (those < OH, OW; the rest are zeros, dropped
// terms) and reads x rows m*ty - TOP + [0, m+2), columns m*tx - LEFT + [0, m+2) (zeros outside).
//   gradient: for each tile, each vector of 4 output channels: column j of dy Aᵀ (row a:
//     AT[.][j] · dy[a]), then A of it: D[0..m+2)[j]
//   filter: for each vector of 4 (ci, co) pairs: column kw of M G (row i: G[.][kw] · M[i]), then
//     Gᵀ of it: dW[0..3)[kw]
// ---------------------------------------------------------------------------------------------

/** gradient(dy, d, g0, g1): D[e, t, co..] = (A dy Aᵀ)[e] over each tile of dy, 4 channels at a time. */
function gradientFn(s: WinogradKey): FnDef {
  const { M, CO, OH, OW } = s;
  const { AT } = TRANSFORMS[M];
  const A = M + 2;
  const TW = Math.ceil(OW / M);
  const { mPlane } = planes(s);
  const [dy, d, g0, g1] = [0, 1, 2, 3];
  let l = 4;
  const [g, n, ty, tx, dp, dEnd, tp] = Array.from({ length: 7 }, () => l++);
  const i32Locals = l - 4;
  const tv = Array.from({ length: M }, () => l++);
  const v128Locals = l - 4 - i32Locals;
  /** Coefficients of column j of Aᵀ (over the tile's m pixels). */
  const column = (j: number) => AT.map((row) => row[j]);
  const body = (rowsIn: number, colsIn: number): Code => {
    const code: Code = [
      // dp = dy + ((n*OH + M*ty) * OW + M*tx) * CO*4 ; tp = d + ((g - g0) * TW + tx) * CO*4
      ...get(n), ...i32(OH), ...MUL, ...get(ty), ...i32(M), ...MUL, ...ADD, ...i32(OW), ...MUL,
      ...get(tx), ...i32(M), ...MUL, ...ADD, ...i32(CO * 4), ...MUL, ...get(dy), ...ADD, ...set(dp),
      ...get(dp), ...i32(CO * 4), ...ADD, ...set(dEnd),
      ...get(g), ...get(g0), ...SUB, ...i32(TW), ...MUL, ...get(tx), ...ADD, ...i32(CO * 4), ...MUL, ...get(d), ...ADD, ...set(tp),
    ];
    const at = (a: number, b: number): Code | null => (a < rowsIn && b < colsIn ? [...get(dp), ...vLoad((a * OW + b) * CO * 4)] : null);
    // Column j of dy Aᵀ (row a: column j of Aᵀ · dy[a]), then A of it: D[0..A)[j]; dy re-read from L1 per column.
    const step: Code = [];
    for (let j = 0; j < A; j++) {
      const live = Array.from({ length: M }, (_, a) => a < rowsIn && column(j).some((c, b) => c !== 0 && b < colsIn));
      for (let a = 0; a < M; a++) if (live[a]) step.push(...combo(column(j), (b) => at(a, b)), ...set(tv[a]));
      for (let i = 0; i < A; i++) step.push(...get(tp), ...combo(column(i), (a) => (live[a] ? get(tv[a]) : null)), ...vStore((i * A + j) * mPlane));
    }
    step.push(...get(tp), ...i32(16), ...ADD, ...set(tp));
    code.push(...forRange(dp, get(dp), get(dEnd), i32(16), step));
    return code;
  };
  const fnBody = overTiles(s, { g0, g1, g, n, ty, tx }, (i) => Math.min(M, OH - M * i), (i) => Math.min(M, OW - M * i), body);
  return { exportName: 'gradient', params: 4, i32Locals, v128Locals, body: fnBody };
}

/** accumulate(src, dst, bytes): dst += src, a vector at a time. */
function accumulateFn(): FnDef {
  const [src, dst, bytes] = [0, 1, 2];
  const p = 3;
  const body = forRange(p, i32(0), get(bytes), i32(16), [
    ...get(dst), ...get(p), ...ADD,
    ...get(dst), ...get(p), ...ADD, ...vLoad(0), ...get(src), ...get(p), ...ADD, ...vLoad(0), ...F32X4_ADD,
    ...vStore(0),
  ]);
  return { exportName: 'accumulate', params: 3, i32Locals: 1, v128Locals: 0, body };
}

/** filter(m, dw): dW[kh][kw] = (Gᵀ M G)[kh][kw] for each vector of 4 (ci, co) pairs. */
function filterFn(s: WinogradKey): FnDef {
  const { CI, CO } = s;
  const { G } = TRANSFORMS[s.M];
  const A = s.M + 2;
  const plane = CI * CO * 4;
  const { uPlane } = planes(s);
  const [m, dw] = [0, 1];
  let l = 2;
  const p = l++;
  const i32Locals = l - 2;
  const sv = Array.from({ length: A }, () => l++);
  const v128Locals = l - 2 - i32Locals;
  /** Coefficients of column k of G (over the A transformed points). */
  const column = (k: number) => G.map((row) => row[k]);
  const step: Code = [];
  for (let kw = 0; kw < 3; kw++) {
    for (let i = 0; i < A; i++) step.push(...combo(column(kw), (j) => [...get(m), ...get(p), ...ADD, ...vLoad((i * A + j) * uPlane)]), ...set(sv[i]));
    for (let kh = 0; kh < 3; kh++) step.push(...get(dw), ...get(p), ...ADD, ...combo(column(kh), (i) => get(sv[i])), ...vStore((kh * 3 + kw) * plane));
  }
  return { exportName: 'filter', params: 2, i32Locals, v128Locals, body: forRange(p, i32(0), i32(plane), i32(16), step) };
}
