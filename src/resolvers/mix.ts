import fs from 'node:fs'
import { numericKey } from '../api/global-id.ts'
import type { ModelSpace } from '../db/repositories/model.repository.ts'
import type { LibraryService } from '../services/library.service.ts'
import type { MixResult, MixService } from '../services/mix.service.ts'
import type { TrackSimilarityFilter } from '../services/similarity.service.ts'
import { modelFor, toModel, type SimilarityContext } from './similarity.ts'

export interface MixContext extends SimilarityContext {
  mixes: MixService
  library: LibraryService
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
  Query: {
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
