/**
 * `npm run sql:snapshots`: records the SQL of the hot operations on the fixture catalog and writes
 * sql/queries/<name>.sql (test/support/sql-snapshots.ts says how), removing snapshots of operations no longer
 * listed. Needs the test PostgreSQL server (TEST_ADMIN_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/postgres)
 * and the fixture dumps in ../shared/fixtures/discogs.
 */
import 'reflect-metadata'
import fs from 'node:fs'
import path from 'node:path'
import { readSqlSnapshots, recordSqlSnapshots, SNAPSHOT_DIR } from '../test/support/sql-snapshots.ts'

const recorded = await recordSqlSnapshots()
const before = readSqlSnapshots()
fs.mkdirSync(SNAPSHOT_DIR, { recursive: true })
for (const [name, text] of recorded) {
  if (before.get(name) === text) continue
  fs.writeFileSync(path.join(SNAPSHOT_DIR, name), text)
  console.log(`${before.has(name) ? 'changed' : 'new'}: sql/queries/${name}`)
}
for (const name of before.keys())
  if (!recorded.has(name)) {
    fs.rmSync(path.join(SNAPSHOT_DIR, name))
    console.log(`removed: sql/queries/${name}`)
  }
console.log(`${recorded.size} SQL snapshots in sql/queries`)
