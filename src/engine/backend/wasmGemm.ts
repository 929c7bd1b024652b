/**
 * Direct matrix products in WebAssembly SIMD for tfjs's wasm backend: the three products of a dense
 * layer in training (forward x·W, input gradient dy·Wᵀ, weight gradient xᵀ·dy) and the fused
 * forward (bias + linear/relu) of evaluation. Registered, with delegation of everything else, by
 * wasmKernels.ts (BatchMatMul, _FusedMatMul).
 *
 * tfjs's wasm BatchMatMul runs XNNPACK's fully-connected operator, which repacks the weights on
 * every call when they change (every training step): [64,784]x[784,400] runs at ~12 GFLOP/s in a
 * training step against ~30 with unchanged weights; with a transposed operand it falls back to a
 * scalar loop. This kernel reads both operands in place: 2 output rows x 16 output columns in 8 SIMD
 * accumulators, splat(a) * b-vectors, the loop over the k terms innermost (the conv's microkernel of
 * wasmConv.ts with the tap loop as k); ~40 GFLOP/s on the MLP's products (x64, one thread). The k
 * terms run in chunks of 128 (a 16-column panel of B stays in L1 while a block of 64 rows reads it;
 * partial sums wait in the output, so the order of the sums is unchanged). The splatted operand is
 * addressed with two strides, so it may be stored transposed; a product whose vectors would run along
 * a transposed operand is computed as its transpose (Cᵀ = B·Aᵀ, written back with transposed stores).
 * dy·Wᵀ copies dyᵀ (the smaller operand, not W); xᵀ·dy copies xᵀ too (reading x down its columns
 * measured 1.2x slower than the copy), so W is never transposed or packed. Columns that do not fill a
 * 16/8/4-wide block run in 4-lane registers one column at a time (the same arithmetic per lane).
 * Modules are generated per geometry (k, columns, strides, bias/relu), so strides are constants.
 *
 * Numerics: every output starts from its bias (fused) or 0, adds a * b over k in order (a fused
 * multiply-add by default, wasmAsm.ts `madd`; with CLW_WASM_FMA=0 a rounded product, then a rounded
 * sum), then relu as max(0, acc) (XNNPACK's pmax(0, acc)). That is XNNPACK's order: unfused, the
 * forward product is bitwise tfjs's and the gradient products bitwise XNNPACK's after explicit
 * transposes (tested); all match tfjs's cpu backend to float32 rounding. An output row depends
 * only on its own input row (evaluation in chunks gives the same bits), and every thread runs the
 * same code (same bits).
 */
import {
  ADD, F32X4_PMAX, MUL, SUB, V_ZERO, assembleModule, forRange, get, madd, i32, min, moduleFor, set, simd, uleb,
  heapOffset, vLoad, vLoad32Splat, vStore, type Code, type FnDef, type HeapBackend, type HeapTensor,
} from './wasmAsm';
import { helperCut, kernelHelperEngaged, runParts } from './kernelHelper';

/**
 * One generated product: out(r, c) = [relu]([bias[c] +] sum_p A(r, p) * B[p, c]) for r < rows, where
 * B is [K, COLS] row-major (the vector operand), A(r, p) is at a + r*ARS + p*APS bytes (the
 * splatted operand) and out(r, c) at out + r*ORS + c*OCS bytes (OCS = 4: vector stores).
 */
export interface GemmKey {
  K: number;
  COLS: number;
  ARS: number;
  APS: number;
  ORS: number;
  OCS: number;
  bias: boolean;
  relu: boolean;
}

export interface GemmModule {
  /** (a, b, bias, out, rows); pointers are heap byte offsets (the geometry, bias and relu are built in). */
  gemm(a: number, b: number, bias: number, out: number, rows: number): void;
}

const calls = { gemm: 0, transposed: 0 };
/** How many products this kernel computed in this thread, and how many of them transposed an operand first (tests, benchmarks). */
export function directGemmCalls(): { gemm: number; transposed: number } {
  return { ...calls };
}


export function gemmModule(backend: HeapBackend, key: GemmKey): GemmModule | null {
  return moduleFor<GemmModule>(backend, `direct-gemm:${JSON.stringify(key)}`, () => assembleModule([gemmFn(key)]));
}

/** A [m, k] matrix read as its transpose [k, m]: a new heap tensor the caller disposes. */
export type Transpose2d = (t: HeapTensor, rows: number, cols: number) => HeapTensor;

/**
 * out [m, n] = [relu](op(a) · op(b) [+ bias]) for single (2-D, or leading dimensions of 1) float32
 * products, op = transpose where asked; a is [m, k] ([k, m] transposed), b is [k, n] ([n, k]
 * transposed), bias [n]. Null when the SIMD module is unavailable (the caller delegates). The
 * returned tensor has shape [m, n]; `transpose2d` makes the operand copy dy·Wᵀ and xᵀ·dy take.
 */
export function directMatMul(
  backend: HeapBackend,
  a: HeapTensor,
  b: HeapTensor,
  bias: HeapTensor | null,
  relu: boolean,
  transposeA: boolean,
  transposeB: boolean,
  dims: { m: number; k: number; n: number },
  transpose2d: Transpose2d,
): HeapTensor | null {
  const { m, k, n } = dims;
  // The vector operand runs along the output's columns (B, not transposed) or, computing Cᵀ = B·Aᵀ,
  // along its rows (A, transposed). dy·Wᵀ has neither: transpose the smaller operand.
  let mode: 'rows' | 'columns';
  let copy: 'a' | 'b' | null = null;
  // xᵀ·dy would read x down its columns: copying xᵀ first measured 1.2x faster on [784,64]x[64,400].
  if (!transposeB && transposeA) [mode, copy] = ['rows', 'a'];
  else if (!transposeB) mode = 'rows';
  else if (transposeA && !bias) mode = 'columns';
  else if (m <= n && !bias) [mode, copy] = ['columns', 'a'];
  else [mode, copy] = ['rows', 'b'];
  let key: GemmKey;
  if (mode === 'rows') {
    // out[i, j]: rows i of A (ARS/APS by transposeA), vectors along B's rows [k, n].
    const tA = transposeA && copy !== 'a';
    key = { K: k, COLS: n, ARS: tA ? 4 : k * 4, APS: tA ? m * 4 : 4, ORS: n * 4, OCS: 4, bias: bias != null, relu };
  } else {
    // out[i, j] = Cᵀ[j, i]: rows j of B [n, k], vectors along Aᵀ's rows [k, m], stored transposed.
    key = { K: k, COLS: m, ARS: k * 4, APS: 4, ORS: 4, OCS: n * 4, bias: false, relu };
  }
  const mod = gemmModule(backend, key);
  if (!mod) return null;
  const temp = copy === 'a' ? (transposeA ? transpose2d(a, k, m) : transpose2d(a, m, k)) : copy === 'b' ? transpose2d(b, n, k) : null;
  const out = backend.makeOutput([m, n], 'float32');
  const biasAt = bias ? heapOffset(backend, bias) : 0;
  const [aAt, bAt, rows] =
    mode === 'rows'
      ? [heapOffset(backend, copy === 'a' ? temp! : a), heapOffset(backend, copy === 'b' ? temp! : b), m]
      : [heapOffset(backend, b), heapOffset(backend, copy === 'a' ? temp! : a), n];
  const outAt = heapOffset(backend, out);
  // With a kernel helper engaged (kernelHelper.ts) the rows are cut in two (an output row depends
  // only on its own row of the splatted operand: the same bits either way).
  const cut = kernelHelperEngaged() ? helperCut(mod, rows, 2, 8) : null;
  if (cut === null) mod.gemm(aAt, bAt, biasAt, outAt, rows);
  else runParts(mod, 'gemm', [[aAt, bAt, biasAt, outAt, cut], [aAt + cut * key.ARS, bAt, biasAt, outAt + cut * key.ORS, rows - cut]]);
  if (temp) backend.disposeData(temp.dataId);
  calls.gemm++;
  if (temp) calls.transposed++;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Module generation. Pseudo-code of `gemm` (V vectors of 4 columns per block, P rows):
//   for each block of columns [c, c + 4V) (16 wide, then one of 8 and one of 4 for the rest; then
//   single columns, in 4-lane registers with the B value splat):
//     for r in [0, rows) in steps of 2 (then 1):
//       acc[p][j] = bias ? bias[c + 4j .. +4] : 0
//       for p in [0, K): acc[p][j] += splat(A(r + p, p)) * B[p, c + 4j .. +4]
//       [acc = pmax(0, acc)]   (relu as XNNPACK: 0 < acc ? acc : 0)
//       out(r + p, c + 4j ..) = acc[p][j]   (a vector store, or 4 lane stores when transposed)
// The k loop stays a loop (as the conv's tap loop: unrolled, V8 hoists and spills the B loads).
// ---------------------------------------------------------------------------------------------

const f32Store = (offset: number): Code => [0x38, 2, ...uleb(offset)];
const extractLane = (lane: number): Code => simd(0x1f, lane);
/** Terms per chunk: a 16-column panel of B of KC rows is 8 KB (measured: 128 beats 256 and unchunked by 1.2-1.3x on [64,784]x[784,400]). */
const KC = 128;
/** Rows per block: MB rows of a chunk of A are 32 KB. */
const MB = 64;

/** The `gemm` function for one geometry (pseudo-code above). */
function gemmFn(s: GemmKey): FnDef {
  const { K, COLS, ARS, APS, ORS, OCS } = s;
  if (s.bias && OCS !== 4) throw new Error('direct gemm: a bias needs contiguous output columns');
  const [a, b, bias, out, rows] = [0, 1, 2, 3, 4];
  let l = 5;
  const [r, cb, ap, bp, bEnd, po, rb, rEnd] = Array.from({ length: 8 }, () => l++);
  const i32Locals = l - 5;
  const acc = Array.from({ length: 8 }, () => l++);
  const wv = Array.from({ length: 4 }, () => l++);
  const sv = l++;
  const zero = l++;
  const v128Locals = l - 5 - i32Locals;

  /**
   * P rows from r x V vectors of 4 columns from byte column `col` (V = 0: one column, splat) over
   * the terms [k0, k1); `col` is code leaving the first column's byte offset in a row of B. The
   * first chunk of terms starts from the bias or 0, later ones from the partial sums in out.
   */
  const block = (P: number, V: number, col: Code, k0: number, k1: number): Code => {
    const single = V === 0;
    const nv = single ? 1 : V;
    const first = k0 === 0;
    const last = k1 === K;
    const at = (p: number, j: number) => acc[p * nv + j];
    const code: Code = [
      ...get(a), ...get(r), ...i32(ARS), ...MUL, ...ADD, ...i32(k0 * APS), ...ADD, ...set(ap),
      ...get(b), ...col, ...ADD, ...i32(k0 * COLS * 4), ...ADD, ...set(bp),
      ...get(bp), ...i32((k1 - k0) * COLS * 4), ...ADD, ...set(bEnd),
    ];
    if (OCS === 4) {
      // po = out + r*ORS + col
      code.push(...get(out), ...get(r), ...i32(ORS), ...MUL, ...ADD, ...col, ...ADD, ...set(po));
    } else {
      // po = out + r*ORS + (col / 4)*OCS; lane q of vector j is column c + 4j + q
      code.push(...get(out), ...get(r), ...i32(ORS), ...MUL, ...ADD, ...col, ...i32(OCS / 4), ...MUL, ...ADD, ...set(po));
    }
    for (let j = 0; j < nv; j++) {
      for (let p = 0; p < P; p++) {
        if (!first) code.push(...get(po), ...(single ? vLoad32Splat(p * ORS) : vLoad(p * ORS + 16 * j)), ...set(at(p, j)));
        else if (s.bias) code.push(...get(bias), ...col, ...ADD, ...(single ? vLoad32Splat(0) : vLoad(16 * j)), ...set(at(p, j)));
        else code.push(...get(zero), ...set(at(p, j)));
      }
    }
    const term: Code = [];
    for (let j = 0; j < nv; j++) term.push(...get(bp), ...(single ? vLoad32Splat(0) : vLoad(16 * j)), ...set(wv[j]));
    for (let p = 0; p < P; p++) {
      term.push(...get(ap), ...vLoad32Splat(p * ARS), ...set(sv));
      for (let j = 0; j < nv; j++) term.push(...madd(get(at(p, j)), get(sv), get(wv[j])), ...set(at(p, j)));
    }
    code.push(
      ...forRange(bp, get(bp), get(bEnd), i32(COLS * 4), [
        ...term,
        ...get(ap), ...i32(APS), ...ADD, ...set(ap),
      ]),
    );
    if (s.relu && last) {
      for (let p = 0; p < P; p++) for (let j = 0; j < nv; j++) code.push(...get(zero), ...get(at(p, j)), ...F32X4_PMAX, ...set(at(p, j)));
    }
    for (let p = 0; p < P; p++) {
      for (let j = 0; j < nv; j++) {
        if (OCS === 4) {
          code.push(...get(po), ...get(at(p, j)), ...(single ? [...extractLane(0), ...f32Store(p * ORS)] : vStore(p * ORS + 16 * j)));
        } else {
          for (let q = 0; q < (single ? 1 : 4); q++) {
            code.push(...get(po), ...get(at(p, j)), ...extractLane(q), ...f32Store(p * ORS + (4 * j + q) * OCS));
          }
        }
      }
    }
    return code;
  };
  /** The rows [rb, rEnd) for one block of columns and chunk of terms: pairs, then the last row if odd. */
  const blockRows = (V: number, col: Code, k0: number, k1: number): Code => [
    ...forRange(r, get(rb), [...get(rEnd), ...i32(1), ...SUB], i32(2), block(2, V, col, k0, k1)),
    // forRange leaves r at the first row it did not process.
    ...forRange(r, get(r), get(rEnd), i32(1), block(1, V, col, k0, k1)),
  ];
  const wide = COLS - (COLS % 16);
  const body: Code = [...V_ZERO, ...set(zero)];
  // Chunks of terms whose 16-column panel of B (KC x 64 bytes) stays in L1 while a block of MB rows
  // reads it, and whose MB rows of A stay in L2 across the panels; the partial sums wait in out
  // (same values, same order). Transposed outputs take K in one chunk.
  const chunks = OCS === 4 ? Math.max(1, Math.round(K / KC)) : 1;
  for (let i = 0; i < chunks; i++) {
    const k0 = Math.round((K * i) / chunks);
    const k1 = Math.round((K * (i + 1)) / chunks);
    const panels: Code = [];
    if (wide > 0) panels.push(...forRange(cb, i32(0), i32(wide * 4), i32(64), blockRows(4, get(cb), k0, k1)));
    let c = wide;
    for (const V of [2, 1]) {
      if (COLS - c >= 4 * V) {
        panels.push(...blockRows(V, i32(c * 4), k0, k1));
        c += 4 * V;
      }
    }
    for (; c < COLS; c++) panels.push(...blockRows(0, i32(c * 4), k0, k1));
    body.push(
      ...forRange(rb, i32(0), get(rows), i32(MB), [
        ...min([...get(rb), ...i32(MB), ...ADD], get(rows)), ...set(rEnd),
        ...panels,
      ]),
    );
  }
  return { exportName: 'gemm', params: 5, i32Locals, v128Locals, body };
}
