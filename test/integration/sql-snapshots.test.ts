import 'reflect-metadata'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  readSqlSnapshots,
  recordSqlSnapshots,
  REGENERATE_COMMAND,
  SNAPSHOT_OPERATIONS,
} from '../support/sql-snapshots.ts'

const FIX = `run \`${REGENERATE_COMMAND}\` and review the change to sql/queries in the diff`

describe('SQL snapshots (sql/queries)', () => {
  let recorded: Map<string, string>
  const stored = readSqlSnapshots()
  // the fixture import, then one API server per operation: minutes on a loaded machine
  beforeAll(async () => {
    recorded = await recordSqlSnapshots()
  }, 300_000)

  it('hold one file per operation, and no other', () => {
    expect([...stored.keys()].sort(), `snapshot files differ from the operations listed; ${FIX}`).toEqual(
      SNAPSHOT_OPERATIONS.map((op) => `${op.name}.sql`).sort(),
    )
  })

  it.each(SNAPSHOT_OPERATIONS.map((op) => op.name))('sql/queries/%s.sql is what the code sends', (name) => {
    const text = recorded.get(`${name}.sql`)!
    // a recorder that missed the pool would compare empty files
    expect(text).toContain('-- statement 1\n')
    // the diff reads as regenerating would change the file: - the file, + what the code sends
    expect(text, `sql/queries/${name}.sql is not what the code sends; ${FIX}`).toBe(stored.get(`${name}.sql`))
  })
})
