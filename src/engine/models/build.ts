import type { ResolvedModelSpec } from '../../protocol/experiment';
import { createRng, deriveSeed } from '../random';
import type { ClassifierModel, ModelParameter, ParameterKind, TF, Tensor4D, Tensor2D, Variable } from './types';

/** Output size of a valid (unpadded) conv + optional max-pool stack, or the layer where it breaks. */
export function convOutputSize(
  input: [number, number, number],
  conv: { filters: number; kernel: number; pool?: number }[],
): { shape: [number, number, number] } | { error: string; layer: number } {
  let [h, w] = input;
  let c = input[2];
  for (let i = 0; i < conv.length; i++) {
    const { filters, kernel, pool } = conv[i];
    if (h < kernel || w < kernel) return { error: `the ${kernel}x${kernel} conv gets a ${h}x${w} input`, layer: i };
    h = h - kernel + 1;
    w = w - kernel + 1;
    c = filters;
    if (pool && pool > 1) {
      if (h < pool || w < pool) return { error: `the ${pool}x${pool} max-pool gets a ${h}x${w} input`, layer: i };
      h = Math.floor(h / pool);
      w = Math.floor(w / pool);
    }
  }
  return { shape: [h, w, c] };
}

let modelCounter = 0; // tfjs variable names must be unique per process

/**
 * Builds a classifier from plain ops over explicit variables, initialised the way PyTorch
 * initialises Conv2d/Linear (weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))), from a
 * seeded generator: the same seed gives the same initial weights on every backend.
 */
export function buildModel(
  tf: TF,
  spec: ResolvedModelSpec,
  inputShape: [number, number, number],
  outputs: number,
  seed: number,
): ClassifierModel {
  const rng = createRng(deriveSeed(seed, 'model-init'));
  const params: ModelParameter[] = [];
  const add = (name: string, kind: ParameterKind, shape: number[], fanIn: number): Variable => {
    const size = shape.reduce((a, b) => a * b, 1);
    const bound = 1 / Math.sqrt(fanIn);
    const values = new Float32Array(size);
    for (let i = 0; i < size; i++) values[i] = (rng() * 2 - 1) * bound;
    const init = tf.tensor(values, shape, 'float32');
    const variable = tf.variable(init, true, `clw${++modelCounter}/${name}`);
    init.dispose(); // the variable holds its own copy
    params.push({ name, kind, shape, variable });
    return variable;
  };

  type Layer = (x: Tensor4D | Tensor2D) => Tensor4D | Tensor2D;
  const layers: Layer[] = [];
  let flat: number;
  if (spec.type === 'cnn') {
    let channels = inputShape[2];
    spec.conv.forEach((c, i) => {
      const k = add(`conv${i + 1}/kernel`, 'conv-kernel', [c.kernel, c.kernel, channels, c.filters], c.kernel * c.kernel * channels);
      const b = add(`conv${i + 1}/bias`, 'bias', [c.filters], c.kernel * c.kernel * channels);
      const pool = c.pool ?? 1;
      const filter = k as unknown as Tensor4D;
      layers.push((x) => {
        if (pool <= 1) return tf.fused.conv2d({ x: x as Tensor4D, filter, strides: 1, pad: 'valid', bias: b, activation: 'relu' });
        // relu(maxPool(z)) = maxPool(relu(z)), and the same first maximum takes the gradient: pooling
        // first leaves relu and its gradient a quarter of the values. Under a gradient tape, conv + add
        // (tfjs's fused conv would also compute the input gradient of the first layer); fused outside.
        const z = tf.engine().state.gradientDepth > 0
          ? tf.add(tf.conv2d(x as Tensor4D, filter, 1, 'valid'), b)
          : tf.fused.conv2d({ x: x as Tensor4D, filter, strides: 1, pad: 'valid', bias: b });
        return tf.relu(tf.maxPool(z as Tensor4D, pool, pool, 'valid'));
      });
      channels = c.filters;
    });
    const out = convOutputSize(inputShape, spec.conv);
    if ('error' in out) throw new Error(`model.conv[${out.layer}]: ${out.error}; the input images are ${inputShape.join('x')}`);
    flat = out.shape[0] * out.shape[1] * out.shape[2];
    layers.push((x) => tf.reshape(x, [x.shape[0], flat]) as Tensor2D);
  } else {
    flat = inputShape[0] * inputShape[1] * inputShape[2];
    layers.push((x) => tf.reshape(x, [x.shape[0], flat]) as Tensor2D);
  }
  const dense = spec.type === 'cnn' ? spec.dense : spec.hidden;
  let width = flat;
  [...dense, outputs].forEach((units, i, all) => {
    const w = add(`dense${i + 1}/kernel`, 'dense-kernel', [width, units], width);
    const b = add(`dense${i + 1}/bias`, 'bias', [units], width);
    const last = i === all.length - 1;
    layers.push((x) => tf.fused.matMul({ a: x as Tensor2D, b: w as unknown as Tensor2D, bias: b, activation: last ? 'linear' : 'relu' }) as Tensor2D);
    width = units;
  });

  return {
    params,
    inputShape,
    outputs,
    parameterCount: params.reduce((n, p) => n + p.variable.size, 0),
    forward(x: Tensor4D): Tensor2D {
      let h: Tensor4D | Tensor2D = x;
      for (const layer of layers) h = layer(h);
      return h as Tensor2D;
    },
    features(x: Tensor4D): Tensor2D {
      // Every layer but the output layer: what forward feeds its last matMul.
      let h: Tensor4D | Tensor2D = x;
      for (let i = 0; i < layers.length - 1; i++) h = layers[i](h);
      return h as Tensor2D;
    },
    dispose() {
      for (const p of params) p.variable.dispose();
    },
  };
}
