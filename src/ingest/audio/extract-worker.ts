import { parentPort, workerData } from 'node:worker_threads'
import { FeatureStore } from '../../audio/feature-store.ts'
import { extractFeatures, type ExtractTask } from './extract.ts'

/**
 * Extracts one file at a time as the pool asks and answers with the result; the frames
 * travel in a temporary feature file, not in the message.
 */
const port = parentPort!
const store = new FeatureStore((workerData as { dataDir: string }).dataDir)
port.on('message', async (m: { id: number; task: ExtractTask }) => {
  try {
    const result = await extractFeatures(m.task, store)
    port.postMessage({ id: m.id, result })
  } catch (err) {
    port.postMessage({ id: m.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) })
  }
})
