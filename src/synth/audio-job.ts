import fs from 'node:fs'
import path from 'node:path'
import { encodeWav } from '../audio/wav.ts'
import { renderTrack, type RenderFormat } from './render.ts'
import type { TrackRender } from './world.ts'

/** One audio file to write: what to render, where, and the RIFF INFO tags to embed. */
export interface AudioJob {
  /** absolute path of the .wav file */
  file: string
  render: TrackRender
  format: RenderFormat
  tags: Record<string, string>
}

/** Renders and writes one file (in the main thread or a worker); returns the number of frames written. */
export function runAudioJob(job: AudioJob): number {
  const channels = renderTrack(job.render, job.format)
  fs.mkdirSync(path.dirname(job.file), { recursive: true })
  fs.writeFileSync(job.file, encodeWav(channels, job.format.sampleRate, { bitDepth: 16, tags: job.tags }))
  return channels[0].length
}
