import type { Database } from '../../src/db/database.ts'
import { importDiscogs } from '../../src/ingest/discogs/import.ts'
import { FIXTURES } from '../../test/support/cli.ts'
import { fixtureReleaseRecords, writeRenumberedReleaseDump } from '../../test/support/dumps.ts'
import { HeapsTitles } from './vocabulary.ts'

/**
 * How the bench catalog's titles are made: `fixture` repeats the fixture's titles (its 10k words at any
 * size); `heaps` keeps the fixture's common words and makes up the rest, so the vocabulary grows as a real
 * catalog's does (bench/support/vocabulary.ts).
 */
export type BenchVocabulary = 'fixture' | 'heaps'

/**
 * The catalog the API benchmarks query: the fixture artists, labels and masters, plus a releases dump of
 * `releases` records renumbered from the fixture's (written into `dumpDir`), imported and analysed.
 */
export async function loadBenchCatalog(
  db: Database,
  releases: number,
  dumpDir: string,
  vocabulary: BenchVocabulary = 'fixture',
): Promise<void> {
  console.error(`loading fixtures and ${releases} releases (${vocabulary} vocabulary)…`)
  await importDiscogs(
    db,
    ['artists', 'labels', 'masters'].map((type) => `${FIXTURES}/discogs_20200806_${type}.xml.gz`),
  )
  const titles = vocabulary === 'heaps' ? new HeapsTitles(fixtureReleaseRecords(), releases) : null
  await importDiscogs(db, [
    writeRenumberedReleaseDump(dumpDir, releases, {
      rewrite: titles ? (record, copy) => titles.rewrite(record, copy) : undefined,
    }),
  ])
  await db.pool.query('ANALYZE')
}
