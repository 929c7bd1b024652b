// Adam (Kingma & Ba 2015, Adam: A Method for Stochastic Optimization, ICLR) as tfjs's
// AdamOptimizer, with the per-variable update fused into one kernel on the wasm backend
// (backend/wasmAdam.ts): bitwise the same weights, one pass over them instead of about ten.
// Everywhere else (cpu, tensorflow, SIMD kernels disabled) it is tfjs's AdamOptimizer itself.
import type * as tfjs from '@tensorflow/tfjs';
import type { TF } from '../models/types';
import { ADAM_KERNEL, registerWasmAdamKernel, wasmAdamAvailable, type AdamUpdateAttrs } from '../backend/wasmAdam';

/** AdamOptimizer's private state, which the fused step shares with tfjs's own step. */
interface AdamState {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tfjs.Variable;
  accBeta2: tfjs.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tfjs.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tfjs.Variable }[];
}

type AdamConstructor = new (learningRate: number, beta1: number, beta2: number, epsilon?: number) => tfjs.AdamOptimizer;
type VariableGradients = Parameters<tfjs.AdamOptimizer['applyGradients']>[0];
const classes = new WeakMap<object, AdamConstructor>();

/**
 * tf.train.adam(learningRate, beta1, beta2, epsilon) whose step is one fused kernel per variable
 * when tf runs on wasm with the engine's SIMD kernels. Same state (moments, accBeta1/2,
 * iterations), getWeights/setWeights and dispose as tfjs's optimizer: it is a subclass of it.
 */
export function createAdam(tf: TF, learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8): tfjs.AdamOptimizer {
  let Fused = classes.get(tf.AdamOptimizer);
  if (!Fused) classes.set(tf.AdamOptimizer, (Fused = fusedAdamClass(tf)));
  return new Fused(learningRate, beta1, beta2, epsilon);
}

function fusedAdamClass(tf: TF): AdamConstructor {
  return class FusedAdamOptimizer extends tf.AdamOptimizer {
    override applyGradients(variableGradients: VariableGradients): void {
      if (!wasmAdamAvailable(tf)) {
        super.applyGradients(variableGradients);
        return;
      }
      registerWasmAdamKernel(tf);
      const s = this as unknown as AdamState;
      const engine = tf.engine();
      const list = Array.isArray(variableGradients) ? variableGradients : null;
      const map = list ? null : (variableGradients as Record<string, tfjs.Tensor | null | undefined>);
      const varNames = list ? list.map((v) => v.name) : Object.keys(map!);
      tf.tidy(() => {
        // The bias corrections exactly as tfjs computes them (float32 kernels), read back as numbers.
        const oneMinusAccBeta1 = tf.sub(1, s.accBeta1).dataSync()[0];
        const oneMinusAccBeta2 = tf.sub(1, s.accBeta2).dataSync()[0];
        // tfjs turns each JS number into a float32 scalar; 1 - beta is computed in double first.
        const attrs: AdamUpdateAttrs = {
          beta1: Math.fround(s.beta1),
          oneMinusBeta1: Math.fround(1 - s.beta1),
          beta2: Math.fround(s.beta2),
          oneMinusBeta2: Math.fround(1 - s.beta2),
          oneMinusAccBeta1,
          oneMinusAccBeta2,
          epsilon: Math.fround(s.epsilon),
          negLearningRate: Math.fround(-s.learningRate),
        };
        varNames.forEach((name, i) => {
          // As AdamOptimizer: moments are created on first use, slot i follows the gradients' order.
          const value = engine.registeredVariables[name];
          s.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
          s.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
          const gradient = list ? list[i].tensor : map![name];
          if (gradient == null) return;
          const firstMoment = s.accumulatedFirstMoment[i].variable;
          const secondMoment = s.accumulatedSecondMoment[i].variable;
          const [w, m, v] = engine.runKernel(
            ADAM_KERNEL,
            { w: value, m: firstMoment, v: secondMoment, g: gradient },
            attrs as unknown as tfjs.NamedAttrMap,
          ) as tfjs.Tensor[];
          firstMoment.assign(m);
          secondMoment.assign(v);
          value.assign(w);
        });
        s.accBeta1.assign(tf.mul(s.accBeta1, s.beta1));
        s.accBeta2.assign(tf.mul(s.accBeta2, s.beta2));
      });
      this.incrementIterations();
    }
  };
}
