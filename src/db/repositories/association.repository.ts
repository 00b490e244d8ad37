import type pg from 'pg'
import { VARIOUS_ARTIST_ID } from '../../discogs.ts'
import type { AssociationGroups } from '../../ml/training/pair-sampler.ts'

export type Association = 'track' | 'release' | 'artist' | 'label'

/**
 * Which tracks (with audio) share which group, per association. Decisions, documented in docs/training.md:
 * - artist: the track's own artists (track_artist) when the tracklist names them, else the release's main
 *   artists (release_artist); extra artists / credits (producers, remixers, mastering…) do not count, they
 *   say little about how a track sounds. Artist id 0, missing ids and "Various" are skipped.
 * - label: the labels printed on the release (release_label) as themselves: a sublabel is its own group,
 *   not folded into its parent, so a major's catalogue does not become one giant positive class;
 *   "Not On Label" placeholders are skipped.
 * - release: the track's release; track: the track itself (its two views are two patches).
 */
const groupSql: Record<Association, string> = {
  track: `SELECT af.track_id AS track, 't' || af.track_id AS key FROM audio_file af WHERE af.track_id IS NOT NULL`,
  release: `SELECT af.track_id AS track, 'r' || t.release_id AS key
              FROM audio_file af JOIN track t ON t.id = af.track_id`,
  artist: `
    WITH heard AS (SELECT af.track_id, t.release_id FROM audio_file af JOIN track t ON t.id = af.track_id)
    SELECT h.track_id AS track, 'a' || ta.artist_id AS key
      FROM heard h JOIN track_artist ta ON ta.track_id = h.track_id
     WHERE ta.artist_id > 0 AND ta.artist_id <> ${VARIOUS_ARTIST_ID}
    UNION
    SELECT h.track_id, 'a' || ra.artist_id
      FROM heard h JOIN release_artist ra ON ra.release_id = h.release_id
     WHERE ra.artist_id > 0 AND ra.artist_id <> ${VARIOUS_ARTIST_ID}
       AND NOT EXISTS (SELECT 1 FROM track_artist ta WHERE ta.track_id = h.track_id AND ta.artist_id > 0)`,
  label: `
    SELECT DISTINCT af.track_id AS track, 'l' || rl.label_id AS key
      FROM audio_file af JOIN track t ON t.id = af.track_id
      JOIN release_label rl ON rl.release_id = t.release_id
      LEFT JOIN label l ON l.id = rl.label_id
     WHERE rl.label_id > 0 AND COALESCE(l.name, rl.name, '') NOT ILIKE 'not on label%'`,
}

export class AssociationRepository {
  constructor(private readonly pool: pg.Pool) {}

  /** The groups of one association over every track that has audio linked to it. */
  async groups(association: Association): Promise<AssociationGroups> {
    const { rows } = await this.pool.query<{ track: string; key: string }>(
      `${groupSql[association]} ORDER BY 1, 2`,
    )
    const groups = new Map<string, number[]>()
    const trackGroups = new Map<number, string[]>()
    for (const r of rows) {
      const track = Number(r.track)
      const g = groups.get(r.key)
      if (g) g.push(track)
      else groups.set(r.key, [track])
      const t = trackGroups.get(track)
      if (t) t.push(r.key)
      else trackGroups.set(track, [r.key])
    }
    return { groups, trackGroups }
  }
}
