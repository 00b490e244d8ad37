import { parentPort } from 'node:worker_threads'
import { runAudioJob, type AudioJob } from './audio-job.ts'

/**
 * Renders audio jobs sent by the pool one at a time and answers each with its index (or the error), so
 * the pool can hand out the next one: both cores stay busy whatever the spread of track lengths.
 */
const port = parentPort!
port.on('message', (m: { index: number; job: AudioJob }) => {
  try {
    const frames = runAudioJob(m.job)
    port.postMessage({ index: m.index, frames })
  } catch (err) {
    port.postMessage({
      index: m.index,
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    })
  }
})
