import type { Database } from '../db/database.ts'
import type { ModelRow, ModelSpace } from '../db/repositories/model.repository.ts'
import { TrackFactsRepository, type TrackFacts } from '../db/repositories/track-facts.repository.ts'
import { BadInputError } from '../errors.ts'
import {
  PlayedSet,
  choosePath,
  meanDirection,
  orderMix,
  pathWaypoints,
  recordingKey,
  similarity,
  type MixCandidate,
} from '../ml/retrieval/mix.ts'
import { ScrobbleService } from './scrobble.service.ts'
import { MAX_FIRST, type SimilarityService, type TrackSimilarityFilter } from './similarity.service.ts'

/**
 * Mixes, paths and radio over search vectors (docs/embeddings.md, "Mixes, paths and radio"). The service
 * fetches candidates (kNN through SimilarityService) and what the rules need of them (vectors, titles,
 * artists); the choosing and ordering is pure math in ml/retrieval/mix.ts. Results are ordered track ids,
 * ready to be played or saved as a playlist.
 */

export interface MixInput {
  /** the tracks the mix is made from; they are not in it */
  seeds: readonly number[]
  /** model id or name */
  model: string | number
  space?: ModelSpace
  /** tracks wanted (1 to 200); fewer when the library runs out */
  first?: number
  /** at most this many tracks of one artist (default 3) */
  maxPerArtist?: number
  filter?: TrackSimilarityFilter
  /**
   * The listener's API key id: what it scrobbled in the last RECENT_PLAYS_MS (plays, not "now playing"
   * notices) is left out, so a mix does not bring back what was just heard.
   */
  listener?: number
}

/** How far back a listener's plays keep tracks out of mixes and radio. */
export const RECENT_PLAYS_MS = 3 * 3600_000
const MAX_RECENT_PLAYS = 500

export interface RadioInput extends MixInput {
  /** what was played already (its last track is where the continuation starts): never repeated */
  exclude?: readonly number[]
}

export interface MixTrack {
  trackId: number
  /** similarity to the seeds' centre, on SimilarTrack's scale */
  similarity: number
}

export interface MixResult {
  model: { id: number; name: string }
  space: ModelSpace
  tracks: MixTrack[]
}

export interface PathInput {
  from: number
  to: number
  model: string | number
  space?: ModelSpace
  /** tracks on the path, both ends included (2 to 100, default 12) */
  steps?: number
}

export interface PathTrack {
  trackId: number
  /** similarity to `to`: it rises along the path */
  similarityToEnd: number
  similarityToStart: number
}

export interface PathResult {
  model: { id: number; name: string }
  space: ModelSpace
  tracks: PathTrack[]
  /** true when the path has fewer tracks than `steps` asked for */
  shortened: boolean
  /** why it is shorter (null when it is not) */
  reason: string | null
}

const MAX_SEEDS = 20
const MAX_EXCLUDE = 5000
const MAX_STEPS = 100
/** Weight of the last track against the seeds' centre when choosing the next one. */
export const MIX_ALPHA = 0.5
/** Neighbours fetched per seed (and for the centre): the pool the mix is chosen from. */
const POOL = MAX_FIRST
/** Nearest tracks fetched per path waypoint: the nearest few may be on the path already. */
const PER_WAYPOINT = 24
/** Further neighbour fetches when the artist cap and repeats leave a mix short. */
const MAX_ROUNDS = 6

export class MixService {
  private readonly facts: TrackFactsRepository
  private readonly scrobbles: ScrobbleService

  constructor(
    db: Database,
    private readonly similarity: SimilarityService,
  ) {
    this.facts = new TrackFactsRepository(db.pool)
    this.scrobbles = new ScrobbleService(db.pool)
  }

  /** An ordered mix that flows from the (first) seed: each track near the last one and the seeds' centre. */
  instantMix(input: MixInput): Promise<MixResult> {
    return this.mix(input, [])
  }

  /** The continuation of a mix for endless play: starts from the last track of `exclude`, never repeats it. */
  radio(input: RadioInput): Promise<MixResult> {
    const exclude = [...new Set((input.exclude ?? []).map((id) => checkId(id, 'exclude')))]
    if (exclude.length > MAX_EXCLUDE) throw new BadInputError(`at most ${MAX_EXCLUDE} tracks`, 'exclude')
    return this.mix(input, exclude)
  }

  private async mix(input: MixInput, radioPlayed: number[]): Promise<MixResult> {
    const first = checkRange(input.first ?? 50, 1, MAX_FIRST, 'first')
    const maxPerArtist = checkRange(input.maxPerArtist ?? 3, 1, MAX_FIRST, 'maxPerArtist')
    const seeds = [...new Set(input.seeds.map((id) => checkId(id, 'seeds')))]
    if (!seeds.length || seeds.length > MAX_SEEDS)
      throw new BadInputError(`give 1 to ${MAX_SEEDS} tracks`, 'seeds')
    // never repeated: what this radio played (its last track is where it goes on from), and what the
    // listener scrobbled lately
    const recent =
      input.listener === undefined
        ? []
        : (
            await this.scrobbles.recentPlays(input.listener, new Date(Date.now() - RECENT_PLAYS_MS), {
              limit: MAX_RECENT_PLAYS,
            })
          )
            .map((p) => p.trackId)
            .filter((id) => !seeds.includes(id))
    const exclude = [...new Set([...recent, ...radioPlayed])]
    const {
      model,
      space,
      vectors: seedVectors,
    } = await this.similarity.searchVectors(seeds, input.model, input.space)
    requireVectors(seeds, seedVectors, model, space, 'seeds')
    const centre = meanDirection(seeds.map((id) => seedVectors.get(id)!))
    const filter = input.filter ?? {}
    const ask = (trackIds: number[], others: number[], excludeArtists: number[] = []) =>
      this.similarity
        .similarTracks({
          trackIds,
          model: model.id,
          space,
          first: POOL,
          filter,
          exclude: [...others, ...exclude],
          excludeArtists,
        })
        .then((r) => r.tracks.map((t) => t.trackId))
    // The centre's neighbours, and each seed's (so a mix of distant seeds also reaches each one's own
    // surroundings). The excludeSame* filters concern all seeds, which only the joint query knows.
    const excludesSame = filter.excludeSameArtist || filter.excludeSameRelease || filter.excludeSameLabel
    const queries = [ask(seeds, [])]
    if (seeds.length > 1 && !excludesSame)
      for (const s of seeds)
        queries.push(
          ask(
            [s],
            seeds.filter((x) => x !== s),
          ),
        )
    const lastPlayed = radioPlayed.at(-1)
    if (lastPlayed !== undefined) queries.push(ask([...new Set([lastPlayed, ...seeds])], []))
    const found = await Promise.all(queries)
    const candidateIds = [...new Set(found.flat())]

    const vectors = new Map(seedVectors)
    const facts = new Map<number, TrackFacts>()
    const learn = async (ids: number[]) => {
      const [v, f] = await Promise.all([
        this.similarity.searchVectors(ids, model.id, space).then((r) => r.vectors),
        this.facts.facts(ids),
      ])
      for (const [id, x] of v) vectors.set(id, x)
      for (const [id, x] of f) facts.set(id, x)
    }
    await learn([...new Set([...seeds, ...exclude, ...candidateIds])])
    const played = () => {
      const set = new PlayedSet()
      for (const id of [...seeds, ...exclude]) {
        const c = candidate(id, vectors, facts)
        if (c) set.add(c)
        // a played track without a vector (another model's) is still never repeated, by id and recording
        else if (facts.has(id))
          set.add({ id, vector: centre.map(() => 0), recording: recordingOf(facts.get(id)!) })
      }
      return set
    }
    const start = (lastPlayed !== undefined && vectors.get(lastPlayed)) || seedVectors.get(seeds.at(-1)!)!
    const order = () =>
      orderMix({
        start,
        centre,
        candidates: candidateIds.map((id) => candidate(id, vectors, facts)).filter((c) => c !== null),
        first,
        maxPerArtist,
        alpha: MIX_ALPHA,
        played: played(),
      })
    let mix = order()
    // Neighbourhoods are crowded by few artists (a track's nearest are its release's, then its artist's), so
    // the cap can leave a mix short: fetch the next neighbours, without what was seen and without the
    // artists at their cap, until `first` tracks pass or the library runs out.
    let full = found.some((ids) => ids.length === POOL)
    for (let round = 0; mix.length < first && full && round < MAX_ROUNDS; round++) {
      const perArtist = new Map<number, number>()
      for (const c of mix) for (const a of c.artists) perArtist.set(a, (perArtist.get(a) ?? 0) + 1)
      const capped = [...perArtist].filter(([, n]) => n >= maxPerArtist).map(([a]) => a)
      const more = (await ask(seeds, candidateIds, capped)).filter((id) => !vectors.has(id))
      full = more.length === POOL
      if (!more.length) break
      await learn(more)
      candidateIds.push(...more)
      mix = order()
    }
    return {
      model: { id: model.id, name: model.name },
      space,
      tracks: mix.map((c) => ({ trackId: c.id, similarity: similarity(centre, c.vector) })),
    }
  }

  /**
   * A path from one track to another: at most one track per waypoint on the great arc between their search
   * vectors (slerp), chosen among each waypoint's nearest so that the similarity to `to` rises at every step
   * (choosePath). Shorter (and saying so) where the library has no such track.
   */
  async trackPath(input: PathInput): Promise<PathResult> {
    const steps = checkRange(input.steps ?? 12, 2, MAX_STEPS, 'steps')
    const from = checkId(input.from, 'from')
    const to = checkId(input.to, 'to')
    if (from === to) throw new BadInputError('is the same track as from', 'to')
    const { model, space, vectors } = await this.similarity.searchVectors(
      [from, to],
      input.model,
      input.space,
    )
    requireVectors([from], vectors, model, space, 'from')
    requireVectors([to], vectors, model, space, 'to')
    const [u, v] = [vectors.get(from)!, vectors.get(to)!]
    let waypoints: Float32Array[]
    try {
      waypoints = pathWaypoints(u, v, steps)
    } catch {
      throw new BadInputError('points exactly opposite from: no single path between them', 'to')
    }
    const near = await Promise.all(
      waypoints.map((w) =>
        this.similarity
          .similarTracks({
            searchVector: w,
            model: model.id,
            space,
            first: PER_WAYPOINT,
            exclude: [from, to],
          })
          .then((r) => r.tracks.map((t) => t.trackId)),
      ),
    )
    const ids = [...new Set(near.flat())]
    const [more, facts] = await Promise.all([
      this.similarity.searchVectors(ids, model.id, space).then((r) => r.vectors),
      this.facts.facts([from, to, ...ids]),
    ])
    for (const [id, x] of more) vectors.set(id, x)
    const asCandidate = (id: number) => candidate(id, vectors, facts)
    const ends = [asCandidate(from), asCandidate(to)]
    if (!ends[0]) throw new BadInputError(`track ${from} is not in the catalog`, 'from')
    if (!ends[1]) throw new BadInputError(`track ${to} is not in the catalog`, 'to')
    const { tracks, skipped } = choosePath({
      from: ends[0],
      to: ends[1],
      waypoints,
      nearWaypoint: near.map((list) => list.map(asCandidate).filter((c) => c !== null)),
    })
    const shortened = tracks.length < steps
    return {
      model: { id: model.id, name: model.name },
      space,
      tracks: tracks.map((c) => ({
        trackId: c.id,
        similarityToEnd: similarity(c.vector, v),
        similarityToStart: similarity(c.vector, u),
      })),
      shortened,
      reason: shortened
        ? `${skipped} of ${steps - 2} waypoints found no unused track closer to \`to\` than the step before: ` +
          'the library holds too few tracks between these two'
        : null,
    }
  }
}

function recordingOf(f: TrackFacts): string {
  // an untitled track is only itself; without artists, the release stands in (unrelated "Intro"s of
  // different releases are not one recording)
  if (!f.title.trim()) return `#${f.id}`
  return recordingKey(f.title, f.artists.length ? f.artists : [-f.releaseId])
}

function candidate(
  id: number,
  vectors: Map<number, Float32Array>,
  facts: Map<number, TrackFacts>,
): MixCandidate | null {
  const vector = vectors.get(id)
  const f = facts.get(id)
  return vector && f ? { id, vector, artists: f.artists, recording: recordingOf(f) } : null
}

function requireVectors(
  ids: readonly number[],
  vectors: Map<number, Float32Array>,
  model: ModelRow,
  space: ModelSpace,
  field: string,
): void {
  const missing = ids.filter((id) => !vectors.has(id))
  if (missing.length)
    throw new BadInputError(
      `no ${space} vector of model ${model.name} for track ${missing.join(', ')} (unknown, or not embedded)`,
      field,
    )
}

function checkId(id: number, field: string): number {
  if (!Number.isSafeInteger(id) || id < 1) throw new BadInputError(`not a valid id: ${id}`, field)
  return id
}

function checkRange(n: number, min: number, max: number, field: string): number {
  if (!Number.isInteger(n) || n < min || n > max)
    throw new BadInputError(`must be an integer from ${min} to ${max}`, field)
  return n
}
