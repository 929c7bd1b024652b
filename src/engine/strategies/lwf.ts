// Learning without Forgetting: Li & Hoiem 2016, Learning without forgetting, ECCV (TPAMI 2017).
// What we compute is van de Ven & Tolias's implementation for the three scenarios (2019, Three
// scenarios for continual learning; GMvandeVen/continual-learning, `--replay=current --distill`):
//  - Before each phase after the first, the live model is copied as the teacher (frozen).
//  - Each current batch also goes through the teacher; its outputs on the earlier tasks' units,
//    softened by the temperature T, are soft targets for the student's outputs on the same batch:
//      KD = T^2 * mean over the batch of KL( softmax(teacher / T) || softmax(student / T) ).
//    Theirs is the soft cross-entropy, which differs from the KL by the teacher's entropy (a
//    constant): same gradients, but the KL is 0 when the student equals the teacher.
//  - Which units: domain-IL: all units. Task-IL: each earlier task's own units (teacher and
//    student softmax over them), the KD averaged over the earlier tasks. Class-IL: the teacher's
//    softmax over the units seen before this phase, the student's over every unit seen so far (the
//    new ones included); their code pads the teacher's probabilities with zeros for the new units,
//    so the student's mass on new units counts as a miss and KD > 0 even when student = teacher.
//  - Weighting ('tasks-seen', theirs): loss = (1/t) CE + (1 - 1/t) alpha KD, t = tasks seen
//    including the current one (their rnt = 1/t, alpha = 1). 'constant' (Li & Hoiem's lambda_o,
//    Avalanche's alpha): loss = CE + alpha KD. 'tasks-seen' scales the classification term
//    (classificationLoss) and the penalty separately.
import type * as tfjs from '@tensorflow/tfjs';
import type { ClassifierModel, TF } from '../models/types';
import type { PhaseContext, StepContext, StrategyDefinition, StrategyEnv, TrainBatch } from './types';

/**
 * T^2 * mean over rows of KL(softmax(teacher/T) || student), where `studentLogProbs` are the
 * student's log-probabilities at temperature T on the teacher's columns (softmax taken over these
 * columns, or over more units for class-IL's padded form).
 */
export function distillationKL(tf: TF, studentLogProbs: tfjs.Tensor2D, teacherLogits: tfjs.Tensor2D, temperature: number): tfjs.Scalar {
  return tf.tidy(() => {
    const teacherLogProbs = tf.logSoftmax(tf.div(teacherLogits, temperature));
    const kl = tf.sum(tf.mul(tf.exp(teacherLogProbs), tf.sub(teacherLogProbs, studentLogProbs)), 1);
    return tf.mul(tf.mean(kl), temperature * temperature) as tfjs.Scalar;
  });
}

/** The distillation loss KD of one batch (unweighted): see the header for the units per scenario. */
export function lwfDistillation(env: StrategyEnv, teacher: ClassifierModel, logits: tfjs.Tensor2D, batch: TrainBatch, earlierTasks: readonly number[], temperature: number): tfjs.Scalar {
  const { tf, head } = env;
  return tf.tidy(() => {
    const target = teacher.forward(batch.x);
    // A 0/1 selection matmul rather than tf.gather, whose gradient (UnsortedSegmentSum) wasm lacks.
    const columns = (t: tfjs.Tensor2D, units: readonly number[]) => {
      const select = new Float32Array(head.outputs * units.length);
      units.forEach((u, k) => (select[u * units.length + k] = 1));
      return tf.matMul(t, tf.tensor2d(select, [head.outputs, units.length])) as tfjs.Tensor2D;
    };
    const soft = (t: tfjs.Tensor2D) => tf.logSoftmax(tf.div(t, temperature)) as tfjs.Tensor2D;
    if (head.scenario === 'domain-il') return distillationKL(tf, soft(logits), target, temperature);
    if (head.scenario === 'class-il') {
      const old = [...new Set(earlierTasks.flatMap((t) => head.units[t]))].sort((a, b) => a - b);
      // The masked logits allow every unit seen so far: the student's softmax includes the new units.
      return distillationKL(tf, columns(soft(logits), old), columns(target, old), temperature);
    }
    // Task-IL: the batch's mask hides the earlier tasks' units, so the student's raw outputs are needed.
    const raw = env.model.forward(batch.x);
    const perTask = earlierTasks.map((t) => distillationKL(tf, soft(columns(raw, head.units[t])), columns(target, head.units[t]), temperature));
    return tf.div(tf.addN(perTask), perTask.length) as tfjs.Scalar;
  });
}

export const lwf: StrategyDefinition = {
  name: 'lwf',
  summary: "Distils the previous model's softened outputs on the earlier tasks' units, computed on the current batch (no stored data).",
  paper: 'Li & Hoiem 2016, Learning without forgetting, ECCV (TPAMI 2017); as implemented by van de Ven & Tolias 2019',
  hyperparameters: {
    temperature: { type: 'number', default: 2, exclusiveMinimum: 0, description: 'Softmax temperature T of the distillation (outputs divided by T; the loss is scaled by T^2).' },
    alpha: { type: 'number', default: 1, minimum: 0, description: 'Weight of the distillation loss.' },
    weighting: {
      type: 'string',
      default: 'tasks-seen',
      enum: ['tasks-seen', 'constant'],
      description: "'tasks-seen': loss = CE/t + (1-1/t)*alpha*KD after t tasks (van de Ven & Tolias 2019); 'constant': CE + alpha*KD (Li & Hoiem).",
    },
  },
  create(env, params) {
    const temperature = Number(params.temperature);
    const alpha = Number(params.alpha);
    const weighting = String(params.weighting);
    let teacher: ClassifierModel | null = null;
    let earlierTasks: number[] = [];
    const release = () => {
      teacher?.dispose();
      teacher = null;
    };
    return {
      beforePhase(ctx: PhaseContext) {
        earlierTasks = ctx.seenTasks.filter((t) => !ctx.tasks.includes(t));
        release();
        if (earlierTasks.length) teacher = env.snapshotModel();
      },
      classificationLoss(logits: tfjs.Tensor2D, batch: TrainBatch, ctx: StepContext) {
        const ce = env.crossEntropy(logits, batch);
        if (weighting === 'constant' || !teacher || !earlierTasks.length) return ce;
        return env.tf.div(ce, ctx.seenTasks.length) as tfjs.Scalar;
      },
      penalty(logits: tfjs.Tensor2D, batch: TrainBatch, ctx: StepContext) {
        if (!teacher || !earlierTasks.length) return null;
        const { tf } = env;
        const kd = lwfDistillation(env, teacher, logits, batch, earlierTasks, temperature);
        if (weighting === 'constant') return tf.mul(kd, alpha) as tfjs.Scalar;
        return tf.mul(kd, alpha * (1 - 1 / ctx.seenTasks.length)) as tfjs.Scalar;
      },
      dispose: release,
    };
  },
};
