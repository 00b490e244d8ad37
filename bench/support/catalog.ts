import type { Database } from '../../src/db/database.ts'
import { importDiscogs } from '../../src/ingest/discogs/import.ts'
import { FIXTURES } from '../../test/support/cli.ts'
import { writeRenumberedReleaseDump } from '../../test/support/dumps.ts'

/**
 * The catalog the API benchmarks query: the fixture artists, labels and masters, plus a releases dump of
 * `releases` records renumbered from the fixture's (written into `dumpDir`), imported and analysed.
 */
export async function loadBenchCatalog(db: Database, releases: number, dumpDir: string): Promise<void> {
  console.error(`loading fixtures and ${releases} releases…`)
  await importDiscogs(db, ['artists', 'labels', 'masters'].map((type) => `${FIXTURES}/discogs_20200806_${type}.xml.gz`))
  await importDiscogs(db, [writeRenumberedReleaseDump(dumpDir, releases)])
  await db.pool.query('ANALYZE')
}
