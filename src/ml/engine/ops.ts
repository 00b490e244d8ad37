import * as tf from '@tensorflow/tfjs'

/**
 * The few operations of EfficientNet that a plain TensorFlow.js graph spends most of its time in, as one
 * function each: batch normalisation (+ swish), the per-channel mean of SE/pooling, and the per-channel
 * scaling of SE gates and drop-connect. On the `native` backend each is ONE fused kernel forward and ONE
 * backward (src/ml/engine/native/kernels.cc, registered by native-backend.ts); on every other backend they
 * are the plain composed tfjs ops, which are also the numerical reference in the kernel tests.
 */

export type Activation = 'swish' | 'none'

type GradFunction = Parameters<typeof tf.customGrad>[0]

/** True when the fused kernels exist on the active backend. */
export function fusedKernelsActive(): boolean {
  return tf.getBackend() === 'native' && tf.getKernel('DgBatchNormAct', 'native') !== undefined
}

export interface BatchNormState {
  gamma: tf.Tensor
  beta: tf.Tensor
  movingMean: tf.Variable
  movingVariance: tf.Variable
}

export interface BatchNormOptions {
  training: boolean
  activation: Activation
  /** Keras convention: moving = momentum · moving + (1 − momentum) · batch. */
  momentum: number
  epsilon: number
  /** Update the moving statistics (training only). Off for gradient-caching's second pass over a chunk. */
  updateStatistics: boolean
  /**
   * Inference: the weight c the initial moving statistics (mean 0, variance 1) still carry; they are
   * divided out, mean = m / (1 − c), variance = (v − c) / (1 − c). 0 uses the statistics as stored.
   */
  initialWeight?: number
}

/** Batch normalisation of an NHWC tensor over N·H·W per channel, then the activation. */
export function batchNormAct(x: tf.Tensor4D, bn: BatchNormState, o: BatchNormOptions): tf.Tensor4D {
  if (!o.training) {
    // Inference: an affine map per channel, folded once.
    return tf.tidy(() => {
      const c = o.initialWeight ?? 0
      const mean = c > 0 ? tf.div(bn.movingMean, 1 - c) : bn.movingMean
      const variance = c > 0 ? tf.relu(tf.div(tf.sub(bn.movingVariance, c), 1 - c)) : bn.movingVariance
      const scale = tf.mul(bn.gamma, tf.rsqrt(tf.add(variance, o.epsilon)))
      const shift = tf.sub(bn.beta, tf.mul(mean, scale))
      if (fusedKernelsActive()) {
        return tf
          .engine()
          .runKernel('DgAffineAct', { x, scale, shift }, { activation: o.activation }) as tf.Tensor4D
      }
      return activate(tf.add(tf.mul(x, scale), shift), o.activation)
    })
  }
  const update = (mean: tf.Tensor1D, variance: tf.Tensor1D) => {
    if (!o.updateStatistics) return
    const m = o.momentum
    // Keras stores the population (unbiased) variance estimate.
    const count = x.shape[0] * x.shape[1] * x.shape[2]
    const unbiased = count > 1 ? tf.mul(variance, count / (count - 1)) : variance
    bn.movingMean.assign(tf.add(tf.mul(bn.movingMean, m), tf.mul(mean, 1 - m)))
    bn.movingVariance.assign(tf.add(tf.mul(bn.movingVariance, m), tf.mul(unbiased, 1 - m)))
  }
  if (fusedKernelsActive()) return fusedBatchNormAct(x, bn.gamma, bn.beta, o, update)
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, [0, 1, 2])
    tf.tidy(() => update(mean as tf.Tensor1D, variance as tf.Tensor1D))
    const y = tf.add(
      tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, o.epsilon))), bn.gamma),
      bn.beta,
    )
    return activate(y as tf.Tensor4D, o.activation)
  })
}

function fusedBatchNormAct(
  x: tf.Tensor4D,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  o: BatchNormOptions,
  update: (mean: tf.Tensor1D, variance: tf.Tensor1D) => void,
): tf.Tensor4D {
  const op = tf.customGrad(((xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const [y, mean, invStd] = tf
      .engine()
      .runKernel(
        'DgBatchNormAct',
        { x: xi, gamma: g, beta: b },
        { activation: o.activation, epsilon: o.epsilon },
      ) as tf.Tensor[]
    // invStd = 1/sqrt(var + eps) → var = 1/invStd² − eps
    update(mean as tf.Tensor1D, tf.sub(tf.reciprocal(tf.square(invStd)), o.epsilon) as tf.Tensor1D)
    save([xi, g, b, mean, invStd])
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sg, sb, sm, si] = saved
        return tf
          .engine()
          .runKernel(
            'DgBatchNormActGrad',
            { dy, x: sx, gamma: sg, beta: sb, mean: sm, invStd: si },
            { activation: o.activation },
          ) as tf.Tensor[]
      },
    }
  }) as unknown as GradFunction)
  return op(x, gamma, beta) as tf.Tensor4D
}

function activate<T extends tf.Tensor>(x: T, activation: Activation): T {
  return activation === 'swish' ? swish(x) : x
}

/** swish(x) = x · sigmoid(x) (a.k.a. SiLU). */
export function swish<T extends tf.Tensor>(x: T): T {
  if (fusedKernelsActive()) return fusedSwish(x)
  return tf.tidy(() => tf.mul(x, tf.sigmoid(x)))
}

function fusedSwish<T extends tf.Tensor>(x: T): T {
  const op = tf.customGrad(((xi: tf.Tensor, save: tf.GradSaveFunc) => {
    save([xi])
    return {
      value: tf.engine().runKernel('DgSwish', { x: xi }) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.engine().runKernel('DgSwishGrad', { dy, x: saved[0] }) as tf.Tensor,
    }
  }) as unknown as GradFunction)
  return op(x) as T
}

/** Mean over H and W of an NHWC tensor: [N, H, W, C] → [N, C]. */
export function channelMean(x: tf.Tensor4D): tf.Tensor2D {
  if (!fusedKernelsActive()) return tf.mean(x, [1, 2])
  const [, h, w] = x.shape
  const op = tf.customGrad(((xi: tf.Tensor) => ({
    value: tf.engine().runKernel('DgChannelMean', { x: xi }) as tf.Tensor,
    gradFunc: (dy: tf.Tensor) =>
      tf.engine().runKernel('DgChannelMeanGrad', { dy }, { height: h, width: w }) as tf.Tensor,
  })) as unknown as GradFunction)
  return op(x) as tf.Tensor2D
}

/** x[n, h, w, c] · s[n, c]: squeeze-excitation gates and per-sample drop-connect masks. */
export function channelScale(x: tf.Tensor4D, s: tf.Tensor2D): tf.Tensor4D {
  if (!fusedKernelsActive()) {
    return tf.tidy(() => tf.mul(x, tf.reshape(s, [s.shape[0], 1, 1, s.shape[1]])))
  }
  const op = tf.customGrad(((xi: tf.Tensor, si: tf.Tensor, save: tf.GradSaveFunc) => {
    save([xi, si])
    return {
      value: tf.engine().runKernel('DgChannelScale', { x: xi, s: si }) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.engine().runKernel('DgChannelScaleGrad', { dy, x: saved[0], s: saved[1] }) as tf.Tensor[],
    }
  }) as unknown as GradFunction)
  return op(x, s) as tf.Tensor4D
}
