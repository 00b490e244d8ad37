import type { MatchRecord } from '../../db/repositories/audio-file.repository.ts'
import type { TrackMatchRepository } from '../../db/repositories/track-match.repository.ts'
import { decideMatch, describeCandidate, type MatchDecision, type MatchMode } from './match-score.ts'
import { hasSearchableTags, type FileTags } from './tags.ts'

/** A manifest row with what the catalog has at its (release, position). */
export interface ManifestClaim {
  manifest: string
  line: number
  releaseId: number
  position: string
  releaseExists: boolean
  trackIds: number[]
}

const round = (x: number) => Math.round(x * 1000) / 1000

function record(
  partial: Partial<MatchRecord> & Pick<MatchRecord, 'status' | 'reason' | 'note'>,
): MatchRecord {
  return { claimTrackId: null, method: null, score: null, ...partial }
}

/**
 * The verdict of a manifest row. It is taken as stated: a row naming a track the catalog lacks leaves the
 * file unmatched (with why) rather than falling back to tags, which could quietly pick another track.
 */
export function manifestMatch(c: ManifestClaim): MatchRecord {
  const where = `${c.manifest} line ${c.line}: release ${c.releaseId} position ${c.position}`
  if (c.trackIds.length === 1)
    return record({
      claimTrackId: c.trackIds[0],
      status: 'matched',
      method: 'manifest',
      score: 1,
      reason: 'manifest',
      note: where,
    })
  if (!c.releaseExists)
    return record({
      status: 'unmatched',
      method: 'manifest',
      reason: 'manifest-release-not-in-catalog',
      note: `${where}: the release is not in the catalog (import its Discogs dump first)`,
    })
  if (!c.trackIds.length)
    return record({
      status: 'unmatched',
      method: 'manifest',
      reason: 'manifest-position-not-found',
      note: `${where}: the release has no track at that position`,
    })
  return record({
    status: 'ambiguous',
    method: 'manifest',
    reason: 'manifest-position-repeated',
    note: `${where}: ${c.trackIds.length} tracks of the release have that position (tracks ${c.trackIds.join(', ')})`,
  })
}

/** A decision of the scorer as a record; `prefix` says what came before (a Discogs id that was not usable). */
export function decisionRecord(d: MatchDecision, mode: MatchMode, prefix = ''): MatchRecord {
  const method = mode === 'release' ? 'discogs-id' : 'tags'
  switch (d.kind) {
    case 'matched':
      return record({
        claimTrackId: d.best.candidate.trackId,
        status: 'matched',
        method,
        score: round(d.best.score),
        reason: mode === 'release' ? 'discogs-release-and-tags' : 'tags',
        note:
          `${prefix}${describeCandidate(d.best.candidate)} scored ${round(d.best.score)}` +
          (d.runnerUp ? `, next best ${round(d.runnerUp.score)}` : ''),
      })
    case 'ambiguous':
      return record({
        status: 'ambiguous',
        method,
        score: round(d.contenders[0].score),
        reason: 'close-candidates',
        note: `${prefix}${d.contenders.length} candidates score too close to choose: ${d.contenders
          .map((s) => `${describeCandidate(s.candidate)} ${round(s.score)}`)
          .join('; ')}`,
      })
    case 'unmatched':
      return record({
        status: 'unmatched',
        method,
        score: d.best ? round(d.best.score) : null,
        reason: d.reason,
        note:
          prefix +
          (d.best
            ? `the best candidate ${describeCandidate(d.best.candidate)} scored only ${round(d.best.score)}`
            : 'no catalog track is like the tags'),
      })
  }
}

/**
 * Finds a file's track from its tags: a Discogs release id written by a tagger (with a position, exactly;
 * else by title, track number and duration among that release's tracks), otherwise fuzzy over the whole
 * catalog by title, album, artist, track number, duration and year.
 */
export class TrackMatcher {
  constructor(private readonly repo: TrackMatchRepository) {}

  async matchTags(tags: FileTags | null, durationS: number | undefined): Promise<MatchRecord> {
    if (!tags || !Object.keys(tags).length)
      return record({ status: 'unmatched', reason: 'no-tags', note: 'the file has no tags to match by' })
    const evidence = { trackNo: tags.trackNo, discNo: tags.discNo, year: tags.year, durationS }
    let prefix = ''
    if (tags.discogsReleaseId !== undefined) {
      const rid = tags.discogsReleaseId
      if (await this.repo.releaseExists(rid)) {
        if (tags.discogsPosition) {
          const [at] = await this.repo.tracksAtPositions([{ releaseId: rid, position: tags.discogsPosition }])
          if (at.trackIds.length === 1)
            return record({
              claimTrackId: at.trackIds[0],
              status: 'matched',
              method: 'discogs-id',
              score: 1,
              reason: 'discogs-release-and-position',
              note: `tagged Discogs release ${rid} position ${tags.discogsPosition}`,
            })
          prefix = `tagged position ${tags.discogsPosition} is not a single track of release ${rid}; `
        }
        const candidates = await this.repo.releaseCandidates(rid, tags.title)
        return decisionRecord(
          decideMatch(candidates, evidence, 'release'),
          'release',
          `${prefix}tagged Discogs release ${rid}: `,
        )
      }
      prefix = `tagged Discogs release ${rid} is not in the catalog; `
    }
    if (!hasSearchableTags(tags)) {
      return record({
        status: 'unmatched',
        reason: prefix ? 'discogs-release-not-in-catalog' : 'too-few-tags',
        note: `${prefix}fuzzy matching needs a title and an album or artist tag`,
      })
    }
    const candidates = await this.repo.fuzzyCandidates({
      title: tags.title!,
      album: tags.album,
      artists: [...new Set([tags.artist, tags.albumArtist].filter((a): a is string => Boolean(a)))],
    })
    const decided = decisionRecord(decideMatch(candidates, evidence, 'tags'), 'tags', prefix)
    if (prefix && decided.status === 'unmatched') decided.reason = 'discogs-release-not-in-catalog'
    return decided
  }
}
