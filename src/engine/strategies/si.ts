// Synaptic intelligence (Zenke et al. 2017, ICML): each weight's importance is its contribution to
// the drop in loss along the training path. During a phase, w_i += -g_i * delta_theta_i after every
// step (g the gradient the optimizer applied, penalty included, as van de Ven & Tolias 2019); at
// the phase's end Omega_i += w_i / ((theta_end,i - theta_start,i)^2 + xi), w resets, and the end
// weights become the anchor. Penalty: c * sum_i Omega_i (theta_i - theta*_i)^2 (no 1/2, as the paper).
// Omega is not clipped at 0, as in the paper. Default c = 3: on MNIST -> Fashion-MNIST (domain-IL,
// 1 epoch, Adam 1e-3, MLP 400-400) MNIST kept 80% after Fashion (c 0.1: 35%, 1: 72%, 10: 79%, 30: 76%;
// naive 30%); van de Ven & Tolias (2019) use c = 0.1 on task-IL Split-MNIST.
import type * as tfjs from '@tensorflow/tfjs';
import { accumulate, latestAnchor, snapshotWeights, type RegularisedStrategy } from './quadraticPenalty';
import { disposeAll, type StrategyDefinition } from './types';

export const si: StrategyDefinition = {
  name: 'si',
  summary: 'Weights each parameter by how much its movement lowered the loss along the training path of earlier tasks, and pulls important ones back.',
  paper: 'Zenke et al. 2017, Continual learning through synaptic intelligence, ICML',
  hyperparameters: {
    c: { type: 'number', default: 3, minimum: 0, description: 'Penalty strength: c * sum over weights of Omega (theta - theta*)^2 (0.1 in van de Ven & Tolias 2019 on Split-MNIST).' },
    xi: { type: 'number', default: 0.1, exclusiveMinimum: 0, description: 'Damping in Omega += w / ((theta_end - theta_start)^2 + xi): bounds the importance of weights that hardly moved (0.1 as van de Ven & Tolias 2019).' },
  },
  create(env, params): RegularisedStrategy {
    const { tf, model } = env;
    const xi = Number(params.xi);
    const anchor = latestAnchor(tf, model, Number(params.c)); // theta* and Omega
    let start: tfjs.Tensor[] = []; // theta at the phase's start
    let previous: tfjs.Tensor[] = []; // theta before the latest step
    let pathIntegral: tfjs.Tensor[] = []; // w
    const clear = () => {
      disposeAll([...start, ...previous, ...pathIntegral]);
      start = previous = pathIntegral = [];
    };
    return {
      ...anchor,
      beforePhase() {
        clear();
        start = snapshotWeights(model);
        previous = snapshotWeights(model);
        pathIntegral = model.params.map((p) => tf.zeros(p.shape));
      },
      afterStep(grads) {
        const next = tf.tidy(() => pathIntegral.map((w, k) => tf.sub(w, tf.mul(grads[k], tf.sub(model.params[k].variable, previous[k])))));
        disposeAll([...pathIntegral, ...previous]);
        pathIntegral = next;
        previous = snapshotWeights(model);
      },
      afterPhase() {
        const added = tf.tidy(() => pathIntegral.map((w, k) => tf.div(w, tf.add(tf.square(tf.sub(model.params[k].variable, start[k])), xi))));
        anchor.reanchor((omega) => accumulate(tf, omega, added));
        clear();
      },
      dispose() {
        clear();
        anchor.dispose();
      },
    };
  },
};
