/**
 * The learning rate at a step: a linear warm-up from base/warmupSteps to base over the first warmupSteps
 * steps, then constant or a half cosine down to floor × base at the last step (Loshchilov & Hutter's SGDR
 * without restarts, as SimCLR and COLA train). `step` counts from 0.
 */
export function learningRateAt(
  step: number,
  options: {
    base: number
    totalSteps: number
    warmupSteps: number
    schedule: 'constant' | 'cosine'
    floor?: number
  },
): number {
  const { base, totalSteps, warmupSteps, schedule } = options
  if (step < warmupSteps) return (base * (step + 1)) / warmupSteps
  if (schedule === 'constant') return base
  const floor = (options.floor ?? 0) * base
  const span = Math.max(1, totalSteps - warmupSteps)
  const progress = Math.min(1, (step - warmupSteps) / span)
  return floor + (base - floor) * 0.5 * (1 + Math.cos(Math.PI * progress))
}

/** Warm-up when a run does not set it: 5 % of its steps (30 of the default 600), at least 1 for a run of 20+. */
export function defaultWarmupSteps(totalSteps: number): number {
  return Math.round(totalSteps * 0.05)
}
