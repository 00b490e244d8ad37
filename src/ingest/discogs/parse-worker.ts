import { parentPort, workerData } from 'node:worker_threads'
import { DumpFormatError } from '../../errors.ts'
import { readDumpFile, type ReadOptions } from './dump-reader.ts'
import { batchBuffers } from './staging-batch.ts'

/**
 * Parses one dump file off the main thread and posts encoded batches to it. Flow control is by credits:
 * the main thread grants one per batch it has written, so at most `initialCredits` batches wait in
 * memory whatever the relative speed of parsing and writing.
 */
const { file, opts, initialCredits } = workerData as { file: string; opts: ReadOptions; initialCredits: number }
const port = parentPort!
let credits = initialCredits
let wake: (() => void) | null = null
port.on('message', (m: { credit?: number; stop?: boolean }) => {
  if (m.credit) credits += m.credit
  if (m.stop) credits = -Infinity
  wake?.()
  wake = null
})

async function run(): Promise<void> {
  try {
    for await (const ev of readDumpFile(file, opts)) {
      if (ev.kind === 'batch') {
        while (credits <= 0) {
          if (credits === -Infinity) return
          await new Promise<void>((r) => (wake = r))
        }
        credits--
        // The batch's buffers move to the writing thread instead of being copied.
        port.postMessage(ev, batchBuffers(ev.batch))
        continue
      }
      port.postMessage(ev)
    }
    port.postMessage({ kind: 'done' })
  } catch (err) {
    const e = err as Error
    port.postMessage({
      kind: 'error',
      error:
        err instanceof DumpFormatError
          ? { dump: true, file: err.file, where: err.where, reason: err.reason }
          : { dump: false, message: e.message, stack: e.stack },
    })
  } finally {
    port.close()
  }
}
await run()
