import 'reflect-metadata'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { importDiscogsDumps, type DiscogsImportProgress } from '../../src/services/import.service.ts'
import { createServerTestDatabase, type TestDatabase } from '../support/database.ts'

const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures/discogs')
const fixture = (type: string) => path.join(FIXTURES, `discogs_20200806_${type}.xml.gz`)

/** What the CLI's bar and the import-discogs job both show comes from here: checked once, on the service. */
describe('import service: Discogs dumps', () => {
  let t: TestDatabase
  const count = async (table: string) =>
    (await t.db.pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n as number
  beforeAll(async () => {
    t = await createServerTestDatabase()
  })
  afterAll(async () => {
    await t?.dispose()
  })

  it('stops between batches when its signal aborts, keeping what it committed', async () => {
    const stop = new AbortController()
    const seen: string[] = []
    await expect(
      importDiscogsDumps(t.db, [fixture('artists'), fixture('labels')], {
        signal: stop.signal,
        onProgress: (p) => {
          seen.push(p.type)
          stop.abort()
        },
      }),
    ).rejects.toMatchObject({ name: 'AbortError' })
    expect(seen).toEqual(['artists'])
    expect(await count('artist')).toBeGreaterThan(0)
    expect(await count('label')).toBe(0)
  })

  it("gives each file's records per second on a clock of its own, started when the previous file ended", async () => {
    const events: (DiscogsImportProgress & { at: number })[] = []
    const summary = await importDiscogsDumps(t.db, [fixture('labels'), fixture('masters')], {
      onProgress: (p) => events.push({ ...p, at: performance.now() }),
    })
    expect(summary.types.labels?.records).toBeGreaterThan(0)
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(['labels', 'masters']))
    for (const e of events) {
      expect(e.seconds).toBeGreaterThan(0)
      expect(e.recordsPerSecond).toBeCloseTo(e.records / e.seconds, 6)
    }
    const first = events.findIndex((e) => e.type === 'masters')
    // The masters' clock starts at the labels' last batch, not at the import's start, which was longer ago
    // by at least the labels' first event's seconds (the margin is the time the test's callback takes).
    const sinceLabels = (events[first].at - events[first - 1].at) / 1000
    const margin = 0.05
    expect(events[0].seconds).toBeGreaterThan(2 * margin)
    expect(Math.abs(events[first].seconds - sinceLabels)).toBeLessThan(margin)
  })
})
