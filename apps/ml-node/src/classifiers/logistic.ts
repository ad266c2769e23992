/**
 * Multinomial logistic regression (softmax) trained with mini-batch Adam and L2 decay.
 * Small, dependency-free, deterministic for a given seed.
 */
export interface LogisticModel {
  labels: string[]
  dims: number
  /** Row-major [labels × dims]. */
  weights: number[]
  bias: number[]
  /** Feature standardisation learnt on the training set. */
  mean: number[]
  std: number[]
}

export interface TrainOptions {
  epochs: number
  learningRate: number
  l2: number
  batchSize: number
  seed: number
  /** Standardise only the first `standardizeDims` features (dense ones); the rest pass as they are. */
  standardizeDims?: number
  onEpoch?: (epoch: number, loss: number) => void | Promise<void>
}

export function mulberry32(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function softmaxInto(z: Float64Array) {
  let max = -Infinity
  for (const v of z) max = Math.max(max, v)
  let sum = 0
  for (let i = 0; i < z.length; i++) {
    const e = Math.exp((z[i] as number) - max)
    z[i] = e
    sum += e
  }
  for (let i = 0; i < z.length; i++) z[i] = (z[i] as number) / sum
}

export async function trainLogistic(
  xs: ArrayLike<number>[],
  ys: number[],
  labels: string[],
  opts: TrainOptions,
): Promise<LogisticModel> {
  const n = xs.length
  const d = xs[0]?.length ?? 0
  const k = labels.length
  const mean = new Array<number>(d).fill(0)
  const std = new Array<number>(d).fill(0)
  for (const x of xs)
    for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) + (x[j] as number) / n
  for (const x of xs) {
    for (let j = 0; j < d; j++)
      std[j] = (std[j] as number) + ((x[j] as number) - (mean[j] as number)) ** 2 / n
  }
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j] as number) || 1
  for (let j = opts.standardizeDims ?? d; j < d; j++) {
    mean[j] = 0
    std[j] = 1
  }
  const X = xs.map((x) =>
    Float64Array.from(
      { length: d },
      (_, j) => ((x[j] as number) - (mean[j] as number)) / (std[j] as number),
    ),
  )
  const W = new Float64Array(k * d)
  const b = new Float64Array(k)
  const mW = new Float64Array(k * d)
  const vW = new Float64Array(k * d)
  const mB = new Float64Array(k)
  const vB = new Float64Array(k)
  const gW = new Float64Array(k * d)
  const gB = new Float64Array(k)
  const z = new Float64Array(k)
  const rand = mulberry32(opts.seed)
  const order = Array.from({ length: n }, (_, i) => i)
  const beta1 = 0.9
  const beta2 = 0.999
  let step = 0
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1))
      ;[order[i], order[j]] = [order[j] as number, order[i] as number]
    }
    let loss = 0
    for (let start = 0; start < n; start += opts.batchSize) {
      const batch = order.slice(start, start + opts.batchSize)
      gW.fill(0)
      gB.fill(0)
      for (const idx of batch) {
        const x = X[idx] as Float64Array
        for (let c = 0; c < k; c++) {
          let s = b[c] as number
          const off = c * d
          for (let j = 0; j < d; j++) s += (W[off + j] as number) * (x[j] as number)
          z[c] = s
        }
        softmaxInto(z)
        const y = ys[idx] as number
        loss -= Math.log(Math.max(1e-12, z[y] as number))
        for (let c = 0; c < k; c++) {
          const g = (z[c] as number) - (c === y ? 1 : 0)
          gB[c] = (gB[c] as number) + g
          const off = c * d
          for (let j = 0; j < d; j++) gW[off + j] = (gW[off + j] as number) + g * (x[j] as number)
        }
      }
      step += 1
      const m = batch.length
      const lr = opts.learningRate
      const c1 = 1 - beta1 ** step
      const c2 = 1 - beta2 ** step
      for (let i = 0; i < W.length; i++) {
        const g = (gW[i] as number) / m + opts.l2 * (W[i] as number)
        mW[i] = beta1 * (mW[i] as number) + (1 - beta1) * g
        vW[i] = beta2 * (vW[i] as number) + (1 - beta2) * g * g
        W[i] =
          (W[i] as number) -
          (lr * ((mW[i] as number) / c1)) / (Math.sqrt((vW[i] as number) / c2) + 1e-8)
      }
      for (let i = 0; i < k; i++) {
        const g = (gB[i] as number) / m
        mB[i] = beta1 * (mB[i] as number) + (1 - beta1) * g
        vB[i] = beta2 * (vB[i] as number) + (1 - beta2) * g * g
        b[i] =
          (b[i] as number) -
          (lr * ((mB[i] as number) / c1)) / (Math.sqrt((vB[i] as number) / c2) + 1e-8)
      }
    }
    await opts.onEpoch?.(epoch + 1, loss / n)
  }
  return { labels, dims: d, weights: Array.from(W), bias: Array.from(b), mean, std }
}

/** Class probabilities for one feature vector. */
export function predict(model: LogisticModel, x: ArrayLike<number>): number[] {
  const { dims: d, labels } = model
  const z = new Float64Array(labels.length)
  for (let c = 0; c < labels.length; c++) {
    let s = model.bias[c] as number
    const off = c * d
    for (let j = 0; j < d; j++) {
      s +=
        (model.weights[off + j] as number) *
        (((x[j] as number) - (model.mean[j] as number)) / (model.std[j] as number))
    }
    z[c] = s
  }
  softmaxInto(z)
  return Array.from(z)
}
