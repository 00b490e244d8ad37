import type { MigrationInterface, QueryRunner } from 'typeorm'

/**
 * The library's search texts (src/db/repositories/library.repository.ts, syncSearch): one row per artist,
 * album and song of the library (the tracks with audio), its name or title and its lower-cased text with
 * its artists (and a song's album), with a trigram index that answers the Subsonic search's word-start
 * patterns. Made from the catalog and audio_file when the library has changed since (`library_search_state`
 * holds what it was made from): a search that built the texts of every library song for each query took
 * 0.9–1.3 s with 20,000 songs (docs/BENCHMARKS.md).
 */
export class LibrarySearch1765900000100 implements MigrationInterface {
  name = 'LibrarySearch1765900000100'

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE library_search (
        kind  text NOT NULL CHECK (kind IN ('artist', 'album', 'song')),
        id    bigint NOT NULL,
        title text NOT NULL,
        text  text NOT NULL,
        PRIMARY KEY (kind, id)
      )`)
    await q.query(`CREATE INDEX library_search_text ON library_search USING gin (text gin_trgm_ops)`)
    // the empty query lists a kind by name, a page at a time
    await q.query(`CREATE INDEX library_search_name ON library_search (kind, lower(title), id)`)
    await q.query(`
      CREATE TABLE library_search_state (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        signature text NOT NULL,
        synced_at timestamptz NOT NULL DEFAULT now()
      )`)
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS library_search_state, library_search`)
  }
}
