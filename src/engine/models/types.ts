import type * as tfjs from '@tensorflow/tfjs';

/** The tfjs namespace in use (tfjs, or tfjs-node which re-exports it). Injected, never imported for values. */
export type TF = typeof tfjs;
export type Tensor = tfjs.Tensor;
export type Tensor2D = tfjs.Tensor2D;
export type Tensor4D = tfjs.Tensor4D;
export type Variable = tfjs.Variable;

export type ParameterKind = 'conv-kernel' | 'dense-kernel' | 'bias';

export interface ModelParameter {
  /** e.g. "conv1/kernel", "dense2/bias". */
  name: string;
  kind: ParameterKind;
  /** conv kernels: [kh, kw, inC, outC] (the output filter is the LAST axis); dense: [in, out]; bias: [out]. */
  shape: number[];
  variable: Variable;
}

/** A classifier built from plain tfjs ops over explicit variables (no Layers API). */
export interface ClassifierModel {
  params: ModelParameter[];
  /** [height, width, channels] of one input image (NHWC). */
  inputShape: [number, number, number];
  outputs: number;
  parameterCount: number;
  /** Logits for a batch of images [n, h, w, c]. Call inside tf.tidy or dispose the result. */
  forward(x: Tensor4D): Tensor2D;
  /**
   * The representation the output layer reads (the input of the last dense layer), [n, width]:
   * iCaRL's feature extractor. Call inside tf.tidy or dispose the result. Optional so that
   * hand-built test models need not provide it; buildModel's models always do.
   */
  features?(x: Tensor4D): Tensor2D;
  dispose(): void;
}

/** One task's evaluation data, as tensors kept for the whole run. */
export interface EvalSet {
  /** [n, h, w, c] float32, normalised. */
  images: Tensor4D;
  /** [n] int32 targets (output units). */
  labels: tfjs.Tensor1D;
  /** Additive logit mask [outputs] this set is scored with by default (task-IL/class-IL heads). */
  mask?: tfjs.Tensor1D;
}
