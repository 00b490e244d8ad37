import type pg from 'pg'
import { inTransaction } from '../sql.ts'

export interface PlaylistRow {
  id: number
  ownerKeyId: number
  /** the owner key's name: what clients show as the owner */
  owner: string
  name: string
  comment: string | null
  public: boolean
  created: Date
  changed: Date
  songCount: number
  /** seconds of its tracks (the audio file's length, else the catalog's) */
  duration: number
}

const COLUMNS = `p.id::float8 AS id, p.owner_key_id AS "ownerKeyId", k.name AS owner, p.name, p.comment, p.public,
  p.created_at AS created, p.changed_at AS changed,
  (SELECT count(*)::int FROM playlist_track pt WHERE pt.playlist_id = p.id) AS "songCount",
  (SELECT coalesce(sum(round(coalesce(af.duration_s, t.duration_s))), 0)::int FROM playlist_track pt JOIN track t ON t.id = pt.track_id
     LEFT JOIN audio_file af ON af.track_id = t.id AND af.status = 'ok' WHERE pt.playlist_id = p.id) AS duration`

/** All SQL on `playlist` and `playlist_track`. Writes of one playlist happen in one transaction. */
export class PlaylistRepository {
  constructor(private readonly pool: pg.Pool) {}

  /** The owner's playlists and, when `withPublic`, everyone's public ones. */
  async list(ownerKeyId: number, withPublic: boolean): Promise<PlaylistRow[]> {
    const { rows } = await this.pool.query<PlaylistRow>(
      `SELECT ${COLUMNS} FROM playlist p JOIN api_key k ON k.id = p.owner_key_id
        WHERE p.owner_key_id = $1 OR ($2 AND p.public) ORDER BY lower(p.name), p.id`,
      [ownerKeyId, withPublic],
    )
    return rows
  }

  async get(id: number): Promise<PlaylistRow | null> {
    const { rows } = await this.pool.query<PlaylistRow>(
      `SELECT ${COLUMNS} FROM playlist p JOIN api_key k ON k.id = p.owner_key_id WHERE p.id = $1`,
      [id],
    )
    return rows[0] ?? null
  }

  /** The playlist's track ids in order (a track may come more than once). */
  async trackIds(id: number): Promise<number[]> {
    const { rows } = await this.pool.query<{ id: number }>(
      `SELECT track_id::float8 AS id FROM playlist_track WHERE playlist_id = $1 ORDER BY position`,
      [id],
    )
    return rows.map((r) => r.id)
  }

  /** Which of these ids are tracks of the catalog. */
  async existingTracks(trackIds: readonly number[]): Promise<Set<number>> {
    const { rows } = await this.pool.query<{ id: number }>(
      `SELECT id::float8 AS id FROM track WHERE id = ANY($1::int8[])`,
      [trackIds],
    )
    return new Set(rows.map((r) => r.id))
  }

  async create(ownerKeyId: number, name: string, trackIds: readonly number[]): Promise<number> {
    return inTransaction(this.pool, async (c) => {
      const { rows } = await c.query<{ id: number }>(
        `INSERT INTO playlist (owner_key_id, name) VALUES ($1, $2) RETURNING id::float8 AS id`,
        [ownerKeyId, name],
      )
      await writeTracks(c, rows[0].id, trackIds)
      return rows[0].id
    })
  }

  /** Changes what is given; `trackIds` replaces the whole list. */
  async update(
    id: number,
    change: { name?: string; comment?: string; public?: boolean; trackIds?: readonly number[] },
  ): Promise<void> {
    await inTransaction(this.pool, async (c) => {
      await c.query(
        `UPDATE playlist SET name = coalesce($2, name), comment = coalesce($3, comment), public = coalesce($4, public), changed_at = now() WHERE id = $1`,
        [id, change.name ?? null, change.comment ?? null, change.public ?? null],
      )
      if (change.trackIds) {
        await c.query(`DELETE FROM playlist_track WHERE playlist_id = $1`, [id])
        await writeTracks(c, id, change.trackIds)
      }
    })
  }

  async delete(id: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(`DELETE FROM playlist WHERE id = $1`, [id])
    return rowCount === 1
  }
}

async function writeTracks(c: pg.PoolClient, playlistId: number, trackIds: readonly number[]): Promise<void> {
  if (!trackIds.length) return
  await c.query(
    `INSERT INTO playlist_track (playlist_id, position, track_id)
     SELECT $1, u.i - 1, u.track_id FROM unnest($2::int8[]) WITH ORDINALITY AS u (track_id, i)`,
    [playlistId, trackIds],
  )
}
