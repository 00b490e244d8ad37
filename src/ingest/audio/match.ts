import type { MatchRecord } from '../../db/repositories/audio-file.repository.ts'
import type {
  CandidateTrack,
  TagQuery,
  TrackMatchRepository,
} from '../../db/repositories/track-match.repository.ts'
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

/**
 * The catalog's search as tag matching asks it: the best `limit` hits of the types for a query, best first
 * (SearchService.search, given by whoever runs the import: the matcher sits below the services).
 */
export interface CatalogSearch {
  search(
    query: string,
    types: readonly ('RELEASE' | 'TRACK')[],
    limit: number,
    offset: number,
  ): Promise<readonly { id: number }[]>
}

/** Catalog search's best this many releases for an album tag are candidates (those like it). */
const FUZZY_RELEASES = 30
/** Catalog search's best this many tracks for a title tag are candidates (those like it), without an album. */
const FUZZY_TRACKS = 200

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
  constructor(
    private readonly repo: TrackMatchRepository,
    private readonly catalog: CatalogSearch,
  ) {}

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
    const candidates = await this.fuzzyCandidates({
      title: tags.title!,
      album: tags.album,
      artists: [...new Set([tags.artist, tags.albumArtist].filter((a): a is string => Boolean(a)))],
    })
    const decided = decisionRecord(decideMatch(candidates, evidence, 'tags'), 'tags', prefix)
    if (prefix && decided.status === 'unmatched') decided.reason = 'discogs-release-not-in-catalog'
    return decided
  }

  /**
   * Candidates for tags anywhere in the catalog: every audio track of the releases among catalog search's
   * best FUZZY_RELEASES for the album tag whose title is like it; only when none is (or there is no album
   * tag), the tracks among search's best FUZZY_TRACKS for the title tag whose title is like it — a common
   * title alone ("Intro") would otherwise drag in half the catalog (TrackMatchRepository.fuzzyCandidates).
   *
   * Search finds the candidates (words, typos, bands, src/services/search.service.ts): taking every title
   * `%` the tag and sorting them all cost 0.4–0.5 s per file on a million releases, and 40 s for a title
   * tag "Love" without an album.
   */
  private async fuzzyCandidates(q: TagQuery): Promise<CandidateTrack[]> {
    const ids = (hits: readonly { id: number }[]) => hits.map((h) => h.id)
    const releases = q.album ? ids(await this.catalog.search(q.album, ['RELEASE'], FUZZY_RELEASES, 0)) : []
    const alike = releases.length ? await this.repo.releasesLike(releases, q.album!) : []
    const tracks = alike.length > 0 ? [] : ids(await this.catalog.search(q.title, ['TRACK'], FUZZY_TRACKS, 0))
    return this.repo.fuzzyCandidates(q, { releaseIds: alike, trackIds: tracks })
  }
}
