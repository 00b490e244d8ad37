import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AuthService, ForbiddenError, UnauthenticatedError } from '../../src/services/auth.service.ts'
import { createServerTestDatabase, type TestDatabase } from '../support/database.ts'

describe('API keys', () => {
  let t: TestDatabase
  beforeAll(async () => {
    t = await createServerTestDatabase()
  })
  afterAll(async () => t?.dispose())

  it('stores only a hash, resolves roles, refuses non-admins and revoked keys', async () => {
    const auth = new AuthService(t.db.pool, { publicRead: false })
    const admin = await auth.createKey('ops', 'admin')
    const reader = await auth.createKey('app', 'reader')
    const { rows } = await t.db.pool.query(`SELECT key_hash FROM api_key`)
    expect(rows.every((r) => !r.key_hash.toString('utf8').includes(admin.key))).toBe(true)

    const a = await auth.viewerFor(`Bearer ${admin.key}`)
    expect(a).toMatchObject({ role: 'admin', keyName: 'ops' })
    expect(() => auth.assertAdmin(a)).not.toThrow()
    const r = await auth.viewerFor(reader.key)
    expect(() => auth.assertAdmin(r)).toThrow(ForbiddenError)
    expect(() => auth.assertCanRead(r)).not.toThrow()
    const anon = await auth.viewerFor(undefined)
    expect(() => auth.assertAdmin(anon)).toThrow(UnauthenticatedError)
    expect(() => auth.assertCanRead(anon)).toThrow(/requires an API key/)
    expect(() => new AuthService(t.db.pool, { publicRead: true }).assertCanRead(anon)).not.toThrow()

    await expect(auth.viewerFor('Bearer dg_forged')).rejects.toThrow(UnauthenticatedError)
    expect(await auth.revokeKey(admin.row.id)).toBe(true)
    await expect(auth.viewerFor(`Bearer ${admin.key}`)).rejects.toThrow(/revoked/)
  })
})
