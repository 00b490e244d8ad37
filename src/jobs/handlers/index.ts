import type { JobHandlers } from '../worker.ts'

/**
 * One handler per job name, loaded lazily so a worker only pays for the capabilities it runs
 * (the training engine, for one, is heavy to load).
 */
export const jobHandlers: JobHandlers = {
  'import-discogs': async () => (await import('./import-discogs.ts')).importDiscogsHandler,
  'import-audio': async () => (await import('./import-audio.ts')).importAudioHandler,
  train: async () => (await import('./train.ts')).trainHandler,
  'train-probe': async () => (await import('./train-probe.ts')).trainProbeHandler,
  'import-onnx-head': async () => (await import('./import-onnx-head.ts')).importOnnxHeadHandler,
  evaluate: async () => (await import('./evaluate.ts')).evaluateHandler,
  embed: async () => (await import('./embed.ts')).embedHandler,
}
