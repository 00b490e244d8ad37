import fs from 'node:fs'
import { numericKey } from '../api/global-id.ts'
import type { LibraryService } from '../services/library.service.ts'
import type { MixResult, MixService, RadioInput } from '../services/mix.service.ts'
import type { PlaylistRow, PlaylistService } from '../services/playlist.service.ts'
import type { TrackSimilarityFilter } from '../services/similarity.service.ts'
import { firstOf } from './list-limit.ts'
import {
  madeWith,
  similarityFilter,
  trackKeys,
  vectorsFor,
  type SimilarityContext,
  type VectorArgs,
} from './similarity.ts'

export interface MixContext extends SimilarityContext {
  mixes: MixService
  library: LibraryService
  playlists: PlaylistService
}

async function playlistObject(ctx: MixContext, ownerKeyId: number, row: PlaylistRow) {
  return {
    id: row.id,
    name: row.name,
    public: row.public,
    owner: row.owner,
    createdAt: row.created.toISOString(),
    tracks: async () => {
      const { trackIds } = await ctx.playlists.get(ownerKeyId, row.id)
      return (await Promise.all(trackIds.map((id) => ctx.loaders.track.load(id)))).filter(Boolean)
    },
  }
}

export const mixTypeDefs = fs.readFileSync(new URL('../schema/mix.graphql', import.meta.url), 'utf8')

interface MixArgs extends VectorArgs {
  seeds: string[]
  first: number
  maxPerArtist?: number | null
  filter?: TrackSimilarityFilter | null
  /** radio's only */
  exclude?: string[] | null
}

/** What instantMix and radio ask of MixService, from their arguments (instantMix has no `exclude`: none). */
async function mixInput(ctx: MixContext, a: MixArgs): Promise<RadioInput> {
  ctx.auth.assertCanRead(ctx.viewer)
  const seeds = trackKeys(a.seeds, 'seeds')
  const exclude = trackKeys(a.exclude, 'exclude')
  return {
    seeds,
    exclude,
    first: a.first,
    maxPerArtist: a.maxPerArtist ?? undefined,
    filter: similarityFilter(a.filter),
    ...(await vectorsFor(ctx, a)),
    listener: ctx.viewer.keyId,
  }
}

async function mixObject(ctx: MixContext, r: MixResult) {
  return {
    ...(await madeWith(ctx, r)),
    tracks: r.tracks.map((t) => ({ track: ctx.loaders.track.load(t.trackId), similarity: t.similarity })),
  }
}

export const mixResolvers = {
  Library: {
    startTracks: async (_: unknown, a: { first: number }, ctx: MixContext) =>
      (await ctx.library.startTracks(a.first)).map((id) => ctx.loaders.track.load(id)),
  },
  Mutation: {
    saveMix: async (_: unknown, a: { name: string; tracks: string[] }, ctx: MixContext) => {
      const owner = ctx.auth.assertKeyHolder(ctx.viewer)
      const id = await ctx.playlists.create(owner, a.name, trackKeys(a.tracks, 'tracks'))
      return playlistObject(ctx, owner, (await ctx.playlists.get(owner, id)).playlist)
    },
  },
  Query: {
    playlists: async (_: unknown, a: { first: number }, ctx: MixContext) => {
      const owner = ctx.auth.assertKeyHolder(ctx.viewer)
      const rows = firstOf(await ctx.playlists.list(owner), a.first)
      return Promise.all(rows.map((row) => playlistObject(ctx, owner, row)))
    },
    instantMix: async (_: unknown, a: Omit<MixArgs, 'exclude'>, ctx: MixContext) =>
      mixObject(ctx, await ctx.mixes.instantMix(await mixInput(ctx, a))),
    radio: async (_: unknown, a: MixArgs, ctx: MixContext) =>
      mixObject(ctx, await ctx.mixes.radio(await mixInput(ctx, a))),
    trackPath: async (
      _: unknown,
      a: VectorArgs & { from: string; to: string; steps: number },
      ctx: MixContext,
    ) => {
      ctx.auth.assertCanRead(ctx.viewer)
      const from = numericKey(a.from, 'Track', 'from')
      const to = numericKey(a.to, 'Track', 'to')
      const p = await ctx.mixes.trackPath({ from, to, steps: a.steps, ...(await vectorsFor(ctx, a)) })
      return {
        ...(await madeWith(ctx, p)),
        steps: p.tracks.map((t) => ({
          track: ctx.loaders.track.load(t.trackId),
          similarityToEnd: t.similarityToEnd,
          similarityToStart: t.similarityToStart,
        })),
        shortened: p.shortened,
        reason: p.reason,
      }
    },
    library: async (_: unknown, __: unknown, ctx: MixContext) => {
      ctx.auth.assertCanRead(ctx.viewer)
      return ctx.library.counts()
    },
  },
}
