import fs from 'node:fs'
import { numericKey } from '../api/global-id.ts'
import type { ModelSpace } from '../db/repositories/model.repository.ts'
import type { LibraryService } from '../services/library.service.ts'
import type { MixResult, MixService } from '../services/mix.service.ts'
import type { PlaylistService } from '../services/playlist.service.ts'
import type { PlaylistRow } from '../db/repositories/playlist.repository.ts'
import type { TrackSimilarityFilter } from '../services/similarity.service.ts'
import { modelFor, toModel, type SimilarityContext } from './similarity.ts'

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

type Space = 'BACKBONE' | 'PROJECTION'
const toSpace = (s: Space | null | undefined): ModelSpace | undefined =>
  s ? (s.toLowerCase() as ModelSpace) : undefined
const trackIds = (ids: readonly string[] | null | undefined, field: string) =>
  (ids ?? []).map((id) => numericKey(id, 'Track', field))
const dropNulls = (f: TrackSimilarityFilter | null | undefined) =>
  Object.fromEntries(Object.entries(f ?? {}).filter(([, v]) => v != null)) as TrackSimilarityFilter

interface MixArgs {
  seeds: string[]
  first: number
  maxPerArtist?: number | null
  filter?: TrackSimilarityFilter | null
  model?: string | null
  space?: Space | null
}

async function mixObject(ctx: MixContext, r: MixResult) {
  return {
    model: toModel(await ctx.similarity.model(r.model.id)),
    space: r.space.toUpperCase(),
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
      const id = await ctx.playlists.create(owner, a.name, trackIds(a.tracks, 'tracks'))
      return playlistObject(ctx, owner, (await ctx.playlists.get(owner, id)).playlist)
    },
  },
  Query: {
    playlists: async (_: unknown, __: unknown, ctx: MixContext) => {
      const owner = ctx.auth.assertKeyHolder(ctx.viewer)
      return Promise.all((await ctx.playlists.list(owner)).map((row) => playlistObject(ctx, owner, row)))
    },
    instantMix: async (_: unknown, a: MixArgs, ctx: MixContext) => {
      ctx.auth.assertCanRead(ctx.viewer)
      const seeds = trackIds(a.seeds, 'seeds')
      const model = await modelFor(ctx, a.model)
      return mixObject(
        ctx,
        await ctx.mixes.instantMix({
          seeds,
          first: a.first,
          maxPerArtist: a.maxPerArtist ?? undefined,
          filter: dropNulls(a.filter),
          model: model.id,
          space: toSpace(a.space),
          listener: ctx.viewer.keyId,
        }),
      )
    },
    radio: async (_: unknown, a: MixArgs & { exclude?: string[] | null }, ctx: MixContext) => {
      ctx.auth.assertCanRead(ctx.viewer)
      const seeds = trackIds(a.seeds, 'seeds')
      const exclude = trackIds(a.exclude, 'exclude')
      const model = await modelFor(ctx, a.model)
      return mixObject(
        ctx,
        await ctx.mixes.radio({
          seeds,
          exclude,
          first: a.first,
          maxPerArtist: a.maxPerArtist ?? undefined,
          filter: dropNulls(a.filter),
          model: model.id,
          space: toSpace(a.space),
          listener: ctx.viewer.keyId,
        }),
      )
    },
    trackPath: async (
      _: unknown,
      a: { from: string; to: string; steps: number; model?: string | null; space?: Space | null },
      ctx: MixContext,
    ) => {
      ctx.auth.assertCanRead(ctx.viewer)
      const from = numericKey(a.from, 'Track', 'from')
      const to = numericKey(a.to, 'Track', 'to')
      const model = await modelFor(ctx, a.model)
      const p = await ctx.mixes.trackPath({
        from,
        to,
        steps: a.steps,
        model: model.id,
        space: toSpace(a.space),
      })
      return {
        model: toModel(await ctx.similarity.model(p.model.id)),
        space: p.space.toUpperCase(),
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
