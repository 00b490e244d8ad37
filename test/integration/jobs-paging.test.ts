import crypto from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AuthService } from '../../src/services/auth.service.ts'
import { startTestApi, type TestApi } from '../support/api.ts'
import { createServerTestDatabase, type TestDatabase } from '../support/database.ts'
import { JobRepository } from '../../src/db/repositories/job.repository.ts'
import { JobQueue } from '../../src/jobs/queue.ts'

/** Paging through jobs created in the same microsecond: every job once, in one order. */
describe('jobs paging', () => {
  let t: TestDatabase
  let api: TestApi
  let queue: JobQueue
  let admin: Record<string, string>
  const together = Array.from({ length: 47 }, () => crypto.randomUUID())

  beforeAll(async () => {
    t = await createServerTestDatabase()
    api = await startTestApi(t)
    queue = await JobQueue.start(t.db)
    await queue.enqueue('embed', { model: 'before' })
    // one statement: every row gets the same created_at, to the microsecond
    await new JobRepository(t.db.pool).createMany(
      together.map((id, i) => ({ id, name: i % 2 ? 'embed' : 'evaluate', payload: { n: i } })),
    )
    await queue.enqueue('embed', { model: 'after' })
    await queue.enqueue('embed', { model: 'last' })
    admin = {
      authorization: `Bearer ${(await new AuthService(t.db.pool, { publicRead: true }).createKey('ops', 'admin')).key}`,
    }
  })
  afterAll(async () => {
    await queue?.stop()
    await api?.close()
    await t?.dispose()
  })

  async function pageThrough(first: number, state?: string): Promise<string[]> {
    const ids: string[] = []
    let after: string | null = null
    for (let pages = 0; pages < 100; pages++) {
      const r = await api.gql(
        `query($first: Int!, $after: String, $state: JobState) { jobs(first: $first, after: $after, state: $state) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`,
        { first, after, state },
        admin,
      )
      expect(r.body.errors).toBeUndefined()
      const { edges, pageInfo } = r.body.data.jobs
      ids.push(...edges.map((e: { node: { id: string } }) => e.node.id))
      if (!pageInfo.hasNextPage) return ids
      expect(pageInfo.endCursor).toBe(edges.at(-1).cursor)
      after = pageInfo.endCursor
    }
    throw new Error('more than 100 pages')
  }

  it('has the premise: the jobs written together share one created_at to the microsecond', async () => {
    const { rows } = await t.db.pool.query(
      `SELECT count(DISTINCT created_at)::int AS n FROM job WHERE id = ANY($1::uuid[])`,
      [together],
    )
    expect(rows[0].n).toBe(1)
  })

  it('pages through all of them in small pages, none lost, none twice, newest first and then by id', async () => {
    const { rows } = await t.db.pool.query(`SELECT id FROM job ORDER BY created_at DESC, id DESC`)
    const expected = rows.map((r) => r.id)
    expect(expected).toHaveLength(50)
    for (const first of [1, 4, 7, 50]) expect(await pageThrough(first), `first: ${first}`).toEqual(expected)
    const queued = await pageThrough(3, 'QUEUED')
    expect(new Set(queued).size).toBe(50)
  })

  it('refuses a cursor that is not one of its own, the old millisecond form included', async () => {
    const code = async (after: string) =>
      (
        await api.gql(
          `query($a: String) { jobs(first: 2, after: $a) { edges { cursor } } }`,
          { a: after },
          admin,
        )
      ).body.errors?.[0]?.extensions?.code
    expect(await code('nonsense')).toBe('BAD_USER_INPUT')
    expect(await code(Buffer.from(new Date().toISOString()).toString('base64url'))).toBe('BAD_USER_INPUT')
    expect(await code(Buffer.from(`2026-01-01T00:00:00.000000Z|not-a-uuid`).toString('base64url'))).toBe(
      'BAD_USER_INPUT',
    )
  })
})
