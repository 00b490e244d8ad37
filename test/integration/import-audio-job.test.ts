import 'reflect-metadata'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { importDiscogs } from '../../src/ingest/discogs/import.ts'
import { jobHandlers } from '../../src/jobs/handlers/index.ts'
import { JobQueue } from '../../src/jobs/queue.ts'
import { JobWorker } from '../../src/jobs/worker.ts'
import { createLogger } from '../../src/logger.ts'
import { writeSyntheticCatalog, type SynthSummary } from '../../src/synth/catalog-writer.ts'
import { worldOptions } from '../../src/synth/world.ts'
import { createServerTestDatabase, tmpDir, type TestDatabase } from '../support/database.ts'

describe('import-audio job', () => {
  let t: TestDatabase
  let queue: JobQueue
  let worker: JobWorker
  let root: string
  let synth: SynthSummary
  beforeAll(async () => {
    t = await createServerTestDatabase()
    root = tmpDir('discograph-audio-job-')
    synth = await writeSyntheticCatalog({
      ...worldOptions('tiny', { seed: 6 }),
      out: path.join(root, 'catalog'),
      sampleRate: 16000,
      channels: 1,
      dumpDate: '20250101',
    })
    await importDiscogs(t.db, Object.values(synth.dumps))
    queue = await JobQueue.start(t.db)
    worker = new JobWorker(
      queue,
      { db: t.db, config: t.config, logger: createLogger('silent') },
      {
        handlers: { 'import-audio': jobHandlers['import-audio'] },
        heartbeatSeconds: 0.5,
        pollingIntervalSeconds: 0.5,
      },
    )
    await worker.start()
  })
  afterAll(async () => {
    await worker?.stop()
    await queue?.stop()
    await t?.dispose()
    if (root) fs.rmSync(root, { recursive: true, force: true })
  })

  it('imports and links a folder with progress and log lines; a bad payload is refused at enqueue', async () => {
    await expect(queue.enqueue('import-audio', { dir: '', patchHop: 0 } as never)).rejects.toThrow(
      /dir|patchHop/,
    )
    const job = await queue.enqueue(
      'import-audio',
      { dir: path.join(synth.out, 'audio'), manifest: synth.manifest, patchHop: 128 },
      'test',
    )
    const end = Date.now() + 60_000
    let done = await queue.get(job.id)
    while (done && !['succeeded', 'failed'].includes(done.state) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 200))
      done = await queue.get(job.id)
    }
    expect(done?.state, JSON.stringify(done?.error)).toBe('succeeded')
    const result = done!.result as { patchHop: number; match: { linked: number; errors: number } }
    expect(result.patchHop).toBe(128)
    expect(result.match).toMatchObject({ linked: synth.audioFiles, errors: 0 })
    expect(done!.progress).toBe(1)
    const messages = done!.log.map((l) => l.message)
    const n = synth.audioFiles
    expect(
      messages.some((m) => new RegExp(`^${n}/${n} files \\(\\d+\\.\\d files/s\\)$`).test(m)),
      messages.join('\n'),
    ).toBe(true)
    expect(
      messages.some((m) =>
        m.includes(`${synth.audioFiles} linked, 0 duplicate, 0 ambiguous, 0 unmatched, 0 errors`),
      ),
    ).toBe(true)
    const { rows } = await t.db.pool.query(
      `SELECT count(*)::int AS n FROM audio_file WHERE track_id IS NOT NULL`,
    )
    expect(rows[0].n).toBe(synth.audioFiles)
  })
})
