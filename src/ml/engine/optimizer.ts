import * as tf from '@tensorflow/tfjs'
import { fusedKernelsActive } from './ops.ts'

interface AdamInternals {
  learningRate: number
  beta1: number
  beta2: number
  epsilon: number
  accBeta1: tf.Variable
  accBeta2: tf.Variable
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[]
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[]
  incrementIterations(): void
}

/**
 * tf.train.adam with the update fused into one native kernel per variable on the `native` backend (the plain
 * optimizer runs a dozen elementwise ops per variable, ~2,500 kernels per B0 step). Same arithmetic, same
 * state (moments named `<variable>/m` and `/v`, iteration count, bias-correction powers), so its
 * getWeights/setWeights checkpoints are interchangeable with tf.train.adam's; on other backends it is
 * tf.train.adam.
 */
export class FusedAdamOptimizer extends tf.AdamOptimizer {
  /** For a learning-rate schedule: the next applyGradients steps with `rate`. */
  setLearningRate(rate: number): void {
    this.learningRate = rate
  }

  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    if (!fusedKernelsActive()) return super.applyGradients(variableGradients)
    const self = this as unknown as AdamInternals
    const list = Array.isArray(variableGradients)
      ? variableGradients.map((g) => ({ name: g.name, gradient: g.tensor }))
      : Object.entries(variableGradients).map(([name, gradient]) => ({
          name,
          gradient: gradient as tf.Tensor,
        }))
    const [acc1, acc2] = [self.accBeta1.dataSync()[0], self.accBeta2.dataSync()[0]]
    const attrs = {
      learningRate: self.learningRate,
      beta1: self.beta1,
      beta2: self.beta2,
      epsilon: self.epsilon,
      c1: 1 - acc1,
      c2: 1 - acc2,
    }
    tf.tidy(() => {
      list.forEach(({ name, gradient }, i) => {
        const value = tf.engine().registeredVariables[name]
        self.accumulatedFirstMoment[i] ??= {
          originalName: `${name}/m`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        }
        self.accumulatedSecondMoment[i] ??= {
          originalName: `${name}/v`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        }
        if (gradient == null) return
        const m = self.accumulatedFirstMoment[i].variable
        const v = self.accumulatedSecondMoment[i].variable
        const [theta, m2, v2] = tf
          .engine()
          .runKernel('DgAdam', { theta: value, m, v, g: gradient }, attrs) as tf.Tensor[]
        m.assign(m2)
        v.assign(v2)
        value.assign(theta)
      })
      self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1))
      self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2))
    })
    self.incrementIterations()
  }
}

/** Adam with TensorFlow.js' defaults (β1 0.9, β2 0.999, ε = the backend's epsilon), fused where possible. */
export function createAdam(learningRate: number): FusedAdamOptimizer {
  return new FusedAdamOptimizer(learningRate, 0.9, 0.999)
}
