import { refitSearchVectors } from '../../src/services/search-vectors.ts'
import type pg from 'pg'
import { SeededRandom } from '../../src/random/seeded-random.ts'

/**
 * A small catalog with vectors, written as real rows: artists play one style each (so style is learnable
 * from a vector that carries the artist's style, and an artist split is meaningful), releases carry the
 * style, its genre, a label that leans to the style and a year; every track has an audio file row (the
 * artist association reads them) and vectors of the models asked for.
 */
export const WORLD_STYLES = [
  { style: 'Techno', genre: 'Electronic', label: 'Tresor', decade: 1990 },
  { style: 'Ambient', genre: 'Electronic', label: 'Kompakt', decade: 2000 },
  { style: 'Punk', genre: 'Rock', label: 'Dischord', decade: 1980 },
  { style: 'Bebop', genre: 'Jazz', label: 'Blue Note', decade: 1950 },
] as const

export interface WorldOptions {
  artists?: number
  releasesPerArtist?: number
  tracksPerRelease?: number
  seed?: number
}

export interface World {
  trackIds: number[]
  /** style index of each track (same order as trackIds) */
  styleOf: Map<number, number>
  artistOf: Map<number, number>
}

export async function seedProbeWorld(pool: pg.Pool, options: WorldOptions = {}): Promise<World> {
  const artists = options.artists ?? 24
  const releasesPerArtist = options.releasesPerArtist ?? 2
  const tracksPerRelease = options.tracksPerRelease ?? 5
  const rng = new SeededRandom(options.seed ?? 1)
  for (const [i, s] of WORLD_STYLES.entries()) {
    await pool.query(`INSERT INTO label (id, name) VALUES ($1, $2)`, [100 + i, s.label])
  }
  const world: World = { trackIds: [], styleOf: new Map(), artistOf: new Map() }
  let releaseId = 1000
  for (let a = 1; a <= artists; a++) {
    const s = (a - 1) % WORLD_STYLES.length
    const st = WORLD_STYLES[s]
    await pool.query(`INSERT INTO artist (id, name) VALUES ($1, $2)`, [a, `Artist ${a}`])
    for (let r = 0; r < releasesPerArtist; r++) {
      releaseId++
      // 85 % on the style's label, as in the synthetic catalog
      const label = rng.next() < 0.85 ? 100 + s : 100 + rng.int(WORLD_STYLES.length)
      await pool.query(`INSERT INTO release (id, title, year) VALUES ($1, $2, $3)`, [
        releaseId,
        `Release ${releaseId}`,
        st.decade + rng.int(10),
      ])
      await pool.query(
        `INSERT INTO release_artist (release_id, ord, artist_id, name) VALUES ($1, 0, $2, $3)`,
        [releaseId, a, `Artist ${a}`],
      )
      await pool.query(`INSERT INTO release_style (release_id, style) VALUES ($1, $2)`, [releaseId, st.style])
      await pool.query(`INSERT INTO release_genre (release_id, genre) VALUES ($1, $2)`, [releaseId, st.genre])
      await pool.query(
        `INSERT INTO release_label (release_id, ord, label_id, name) VALUES ($1, 0, $2, NULL)`,
        [releaseId, label],
      )
      for (let t = 1; t <= tracksPerRelease; t++) {
        const { rows } = await pool.query(
          `INSERT INTO track (release_id, track_key, sequence, position, title, type) VALUES ($1, $2, $3, $2, $4, 'track') RETURNING id`,
          [releaseId, `A${t}`, t, `Track ${t}`],
        )
        const id = Number(rows[0].id)
        await pool.query(
          `INSERT INTO audio_file (path, size, mtime_ms, status, track_id) VALUES ($1, 1, 0, 'ok', $2)`,
          [`/audio/${a}/${releaseId}/${t}.wav`, id],
        )
        world.trackIds.push(id)
        world.styleOf.set(id, s)
        world.artistOf.set(id, a)
      }
    }
  }
  return world
}

export async function insertModel(
  pool: pg.Pool,
  name: string,
  kind: 'random' | 'trained' | 'onnx',
  association: string | null = null,
): Promise<number> {
  const { rows } = await pool.query(
    `INSERT INTO model (name, kind, association, fingerprint) VALUES ($1, $2, $3, $1) RETURNING id`,
    [name, kind, association],
  )
  return rows[0].id
}

/**
 * Unit vectors for tracks: `signal` · (the style's direction) + noise, or pure noise with signal 0. Style
 * directions are fixed by `seed`, noise by `seed` and the track.
 */
export async function insertVectors(
  pool: pg.Pool,
  modelId: number,
  world: World,
  options: {
    dims: number
    signal: number
    seed: number
    space?: 'backbone' | 'projection'
    tracks?: number[]
  },
): Promise<void> {
  const rng = new SeededRandom(options.seed)
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next())
  const directions = WORLD_STYLES.map(() => Array.from({ length: options.dims }, gauss))
  const tracks = options.tracks ?? world.trackIds
  const texts: string[] = []
  for (const t of tracks) {
    const d = directions[world.styleOf.get(t)!]
    const v = d.map((x) => options.signal * x + gauss())
    const norm = Math.hypot(...v)
    texts.push(`[${v.map((x) => (x / norm).toFixed(6)).join(',')}]`)
  }
  await pool.query(
    `INSERT INTO track_embedding (model_id, space, track_id, embedding, patches)
     SELECT $1, $2, t, e::vector, 3 FROM unnest($3::bigint[], $4::text[]) AS u (t, e)`,
    [modelId, options.space ?? 'backbone', tracks, texts],
  )
  // as `embed` does after writing: the search vectors (raw here: these vectors are centred by construction)
  await refitSearchVectors({ pool, kind: 'server' }, modelId, options.space ?? 'backbone', { kind: 'raw' })
}
