import fs from 'node:fs'
import path from 'node:path'
import { toGlobalId } from '../../src/api/global-id.ts'
import { startApiServer } from '../../src/api/http-server.ts'
import { openDatabase } from '../../src/db/database.ts'
import { importDiscogs } from '../../src/ingest/discogs/import.ts'
import { JobQueue } from '../../src/jobs/queue.ts'
import { createLogger } from '../../src/logger.ts'
import { FIXTURES, REPO_ROOT } from './cli.ts'
import { createServerTestDatabase } from './database.ts'
import { recordPoolSql } from './sql-recorder.ts'
import { embedFixtureTracks } from './style-vectors.ts'

/**
 * Snapshots of the SQL the hot operations send (sql/queries/<name>.sql), as Immich keeps its repositories'
 * queries: a change to a hot statement shows up in review as SQL. They are recorded, not written: each
 * operation runs through the real API (HTTP, GraphQL, services, repositories) on the fixture catalog in a
 * real PostgreSQL, and every statement its connections send is kept, in order. So they follow the code
 * wherever the SQL lives, and cannot drift from it: test/integration/sql-snapshots.test.ts records them again
 * and fails on any difference.
 */

export const SNAPSHOT_DIR = path.join(REPO_ROOT, 'sql/queries')
export const REGENERATE_COMMAND = 'npm run sql:snapshots'

/** What an operation's variables may name: things of the fixture catalog found once it is loaded. */
interface SnapshotWorld {
  /** The first track of release 1 (The Persuader, "Stockholm"), which has a vector. */
  track: string
}

/** The world's things by what they are, for the snapshots' headers (their ids are the import's to give). */
const WORLD_NAMES: SnapshotWorld = { track: '<id of the first track of release 1>' }

interface SnapshotOperation {
  name: string
  /** what the operation is, and what part of the SQL it is there to show */
  about: string
  query: string
  variables: (w: SnapshotWorld) => Record<string, unknown>
}

// What a track costs where a page lists tracks (the web UI's lists ask as much).
const TRACK_FIELDS = `id title position duration audio { url } release { discogsId title year styles { name } artists { name } }`

/** A search for `q`, a page of 30 of every type. */
const search = (name: string, about: string, q: string): SnapshotOperation => ({
  name,
  about,
  query: `query Search($q: String!) { search(query: $q, first: 30) { edges { score text node { __typename
    ... on Artist { discogsId } ... on Label { discogsId } ... on Master { discogsId year }
    ... on Release { discogsId year country } ... on Track { id release { discogsId title } } } } } }`,
  variables: () => ({ q }),
})

/** similarTracks of the world's track, 20 of them, with `filter`. */
const similar = (name: string, about: string, filter?: Record<string, unknown>): SnapshotOperation => ({
  name,
  about,
  query: `query Similar($id: ID!, $filter: SimilarityFilter) {
    similarTracks(track: $id, first: 20, filter: $filter) { similarity track { ${TRACK_FIELDS} } } }`,
  variables: (w) => ({ id: w.track, ...(filter ? { filter } : {}) }),
})

export const SNAPSHOT_OPERATIONS: SnapshotOperation[] = [
  search('search-as-typed', 'Search whose first pass (every word as typed) finds a page.', 'love'),
  search(
    'search-typo',
    'Search for a word the dictionary lacks: the typo pass, each word matching its likest words too.',
    'persuadr',
  ),
  search(
    'search-most-words',
    'A pasted title with words no title has: the typo pass, then the passes wanting all words but one, two.',
    'Stockholm Persuader Deluxe Remaster',
  ),
  search(
    'search-short-words',
    'A query of only words shorter than 3 letters: the one capped pass wanting them all as words.',
    'dj k',
  ),
  {
    name: 'release-page',
    about: 'A release page: one release with its styles, genres, artists, labels and tracks.',
    query: `query Release($id: Int!) { release(discogsId: $id) { id discogsId title year country released notes
    styles { name } genres { name } artists { name artist { discogsId name } }
    labels { catalogNumber label { discogsId name } }
    tracks(first: 100) { edges { node { id position title duration type audio { url } } } } } }`,
    variables: () => ({ id: 1 }),
  },
  {
    name: 'releases-page-50',
    about:
      'A page of 50 releases with artists, labels, styles and tracks: a fixed handful of statements whatever the page size.',
    query: `query($n: Int) { releases(first: $n) { edges { node { title artists { name artist { name } }
    labels { catalogNumber label { name parentLabel { name } } } styles { name }
    tracks(first: 50) { edges { node { title artists { name } subTracks { title } } } } } } } }`,
    variables: () => ({ n: 50 }),
  },
  similar('similar-tracks', 'similarTracks of one track, no filter: the HNSW index scan.'),
  similar(
    'similar-tracks-filtered',
    'similarTracks with filters (years, other artists and releases): the iterative index scan with its conditions.',
    { yearFrom: 1990, yearTo: 2010, excludeSameArtist: true, excludeSameRelease: true },
  ),
  similar(
    'similar-tracks-selective',
    'similarTracks with a filter that leaves fewer tracks than asked for within reach of the index: the exact scan after it.',
    { styles: ['Deep House'], countries: ['Sweden'] },
  ),
  {
    name: 'instant-mix',
    about: 'The instant mix of one seed: its kNN candidates, then the mix.',
    query: `query Mix($id: ID!) { instantMix(seeds: [$id], first: 25) { tracks { similarity track { ${TRACK_FIELDS} } } } }`,
    variables: (w) => ({ id: w.track }),
  },
]

/**
 * A snapshot file: a header saying what produced it and for which operation, then each statement in the
 * order sent. Statements are as sent but for their common indentation (they come from template literals
 * indented with the code); parameter values are never in them ($1, $2, …).
 */
function formatSnapshot(op: SnapshotOperation, variables: Record<string, unknown>, sql: string[]): string {
  const comment = (text: string) =>
    text
      .split('\n')
      .map((line) => `-- ${line}`.trimEnd())
      .join('\n')
  const head = [
    `-- Generated by \`${REGENERATE_COMMAND}\` (test/support/sql-snapshots.ts); do not edit.`,
    '-- The SQL a PostgreSQL server received while the API answered the operation below on the fixture',
    '-- catalog, recorded at the pool (test/support/sql-recorder.ts), statement by statement in the order sent.',
    '-- test/integration/sql-snapshots.test.ts fails when the code sends anything else.',
    '--',
    comment(op.about),
    '--',
    comment(op.query),
    comment(`variables: ${JSON.stringify(variables)}`),
  ].join('\n')
  const body = sql.map((text, i) => `-- statement ${i + 1}\n${dedent(text)};`)
  return `${head}\n\n${body.join('\n\n')}\n`
}

/** The text without its lines' common indentation (the first line, which follows the opening quote, aside). */
function dedent(text: string): string {
  const lines = text.trim().split('\n')
  const indents = lines
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((l) => l.length - l.trimStart().length)
  const cut = indents.length ? Math.min(...indents) : 0
  return [lines[0], ...lines.slice(1).map((l) => l.slice(cut).trimEnd())].join('\n').replace(/;\s*$/, '')
}

/**
 * Loads the fixture catalog into a fresh database on the test server, gives its tracks vectors, starts the
 * API and records each operation's SQL; returns each snapshot's file text by name (`<name>.sql`).
 */
export async function recordSqlSnapshots(): Promise<Map<string, string>> {
  const t = await createServerTestDatabase()
  try {
    await importDiscogs(t.db, [FIXTURES])
    await embedFixtureTracks(t)
    const {
      rows: [first],
    } = await t.db.pool.query<{ id: string }>(
      `SELECT min(id) AS id FROM track WHERE release_id = 1 AND type = 'track'`,
    )
    const world: SnapshotWorld = { track: toGlobalId('Track', first.id) }
    // The API gets a pool of its own, so that only its statements are recorded (pg-boss, on the other, polls),
    // and a pool of one connection, so that statements sent side by side (the lists DataLoader reads at one
    // depth of a query) are answered in the order sent: with two, which finished first decided which list's
    // statements came next, and the order of a snapshot varied between runs. The texts are the same either way.
    const apiDb = await openDatabase({ ...t.config, dbPoolMax: 1 })
    const recorder = recordPoolSql(apiDb.pool)
    const queue = await JobQueue.start(t.db)
    try {
      const out = new Map<string, string>()
      for (const op of SNAPSHOT_OPERATIONS) {
        // A server of its own per operation: the services cache a few rows for seconds (a model, its search
        // transform), so an operation after another would send less, or not, as the machine's speed had it.
        const server = await startApiServer(
          { db: apiDb, config: t.config, logger: createLogger('silent'), queue },
          { port: 0, host: '127.0.0.1' },
        )
        try {
          const variables = op.variables(world)
          const { result, statements } = await recorder.record(async () => {
            const res = await fetch(`${server.url}/graphql`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ query: op.query, variables }),
            })
            return (await res.json()) as { errors?: unknown[] }
          })
          if (result.errors)
            throw new Error(`${op.name}: the operation failed: ${JSON.stringify(result.errors)}`)
          out.set(`${op.name}.sql`, formatSnapshot(op, op.variables(WORLD_NAMES), statements))
        } finally {
          await server.close()
        }
      }
      return out
    } finally {
      await queue.stop()
      recorder.detach()
      await apiDb.close()
    }
  } finally {
    await t.dispose()
  }
}

/** The snapshots checked in, by file name. */
export function readSqlSnapshots(): Map<string, string> {
  const out = new Map<string, string>()
  if (!fs.existsSync(SNAPSHOT_DIR)) return out
  for (const name of fs.readdirSync(SNAPSHOT_DIR).sort())
    if (name.endsWith('.sql')) out.set(name, fs.readFileSync(path.join(SNAPSHOT_DIR, name), 'utf8'))
  return out
}
