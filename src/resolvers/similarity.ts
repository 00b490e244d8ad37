import fs from 'node:fs'
import { numericKey } from '../api/global-id.ts'
import type { Loaders } from '../api/loaders.ts'
import type { Database } from '../db/database.ts'
import { BadInputError } from '../errors.ts'
import { MAP_POINTS, type EmbeddingMapService, type MapColor } from '../services/embedding-map.service.ts'
import type { ModelRow, ModelService, ModelSpace, ModelSummary } from '../services/model.service.ts'
import { listProbes, predictionsFor, type TrackPredictions } from '../services/probe.service.ts'
import { probeKind } from '../ml/probes/probe-kind.ts'
import type { AuthService, Viewer } from '../services/auth.service.ts'
import type {
  SimilarityService,
  SimilarOwner,
  TrackSimilarityFilter,
} from '../services/similarity.service.ts'
import { findRun } from '../services/training-runs.service.ts'
import { toRun } from './jobs.ts'
import { firstOf } from './list-limit.ts'

export interface SimilarityContext {
  viewer: Viewer
  auth: AuthService
  loaders: Loaders
  db: Database
  similarity: SimilarityService
  models: ModelService
  maps: EmbeddingMapService
  /** A path of this server as a URL the viewer can put in `<audio src>` (signed when reading needs a key). */
  signedUrl(path: string): string
}

export const similarityTypeDefs = fs.readFileSync(
  new URL('../schema/similarity.graphql', import.meta.url),
  'utf8',
)

/** A track as the Track type's resolvers get it: a catalog row, of which they need the id. */
type TrackParent = { id: unknown }

/** Which model's vectors a query searches, and in which space. */
export interface VectorArgs {
  model?: string | null
  space?: ModelSpace | null
}

/** The model a query means: the one named, else ModelService.defaultModel. */
async function modelFor(ctx: SimilarityContext, name: string | null | undefined): Promise<ModelRow> {
  return name ? ctx.similarity.model(name) : ctx.models.defaultModel()
}

/** The model (its id) and space a query's `model` and `space` arguments mean, as the services take them. */
export async function vectorsFor(
  ctx: SimilarityContext,
  a: VectorArgs,
): Promise<{ model: number; space: ModelSpace | undefined }> {
  return { model: (await modelFor(ctx, a.model)).id, space: a.space ?? undefined }
}

/** Track ids of an argument's global ids (or plain numbers); none when it is absent. */
export const trackKeys = (ids: readonly string[] | null | undefined, field: string): number[] =>
  (ids ?? []).map((id) => numericKey(id, 'Track', field))

/** The filter without the fields a client sent as null (GraphQL passes them; the services take them as absent). */
export const similarityFilter = (f: TrackSimilarityFilter | null | undefined) =>
  Object.fromEntries(Object.entries(f ?? {}).filter(([, v]) => v != null)) as TrackSimilarityFilter

function toModel(m: ModelRow & { embedded?: ModelSummary['embedded'] }) {
  return { ...m, createdAt: m.createdAt.toISOString() }
}

/** The model and space a result was made with, as the schema shows them. */
export async function madeWith(ctx: SimilarityContext, r: { model: { id: number }; space: ModelSpace }) {
  return { model: toModel(await ctx.similarity.model(r.model.id)), space: r.space }
}

interface SimilarOwnersArgs extends VectorArgs {
  first: number
  pairs: number
}

/** Similar artists/labels with their rows; ids the catalog lacks (a partial import) are left out. */
async function similarOwners(
  ctx: SimilarityContext,
  key: 'artist' | 'label',
  id: number,
  a: SimilarOwnersArgs,
) {
  ctx.auth.assertCanRead(ctx.viewer)
  const input = { id, ...(await vectorsFor(ctx, a)), first: a.first, pairs: a.pairs }
  const list: SimilarOwner[] =
    key === 'artist' ? await ctx.similarity.similarArtists(input) : await ctx.similarity.similarLabels(input)
  const loader = key === 'artist' ? ctx.loaders.artist : ctx.loaders.label
  const rows = await Promise.all(list.map((o) => loader.load(o.id)))
  return list
    .map((o, i) => ({
      [key]: rows[i],
      similarity: o.similarity,
      tracks: o.tracks,
      connectingTracks: o.pairs.map((p) => ({
        track: ctx.loaders.track.load(p.trackId),
        otherTrack: ctx.loaders.track.load(p.otherTrackId),
        similarity: p.similarity,
      })),
    }))
    .filter((_, i) => rows[i] !== null)
}

async function probeObjects(ctx: SimilarityContext) {
  return (await listProbes(ctx.db)).map((p) => ({
    ...p,
    kind: probeKind(p),
    createdAt: p.createdAt.toISOString(),
  }))
}

async function prediction(ctx: SimilarityContext, trackId: number, probe: string) {
  const p: TrackPredictions | null = await predictionsFor(ctx.db, trackId, probe)
  if (!p) return null
  return {
    source: p.source,
    scores: p.scores,
    probe: probeObjects(ctx).then((all) => all.find((x) => x.name === p.probe)),
  }
}

export const similarityResolvers = {
  Model: {
    retrieval: (m: ModelRow) => {
      const r = m.metrics.retrieval as { spaces?: Record<string, unknown> } | undefined
      if (!r || typeof r !== 'object') return null
      return {
        ...r,
        spaces: Object.entries(r.spaces ?? {}).map(([space, v]) => ({ ...(v as object), space })),
      }
    },
    embedded: async (
      m: ModelRow & { embedded?: ModelSummary['embedded'] },
      _: unknown,
      ctx: SimilarityContext,
    ) => m.embedded ?? (await ctx.models.list()).find((x) => x.id === m.id)?.embedded ?? {},
    trainingRun: async (m: ModelRow, _: unknown, ctx: SimilarityContext) => {
      const run = m.trainingRunId ? await findRun(ctx.db, m.trainingRunId) : null
      return run && toRun(run)
    },
  },
  Track: {
    audio: async (t: TrackParent, _: unknown, ctx: SimilarityContext) => {
      const a = await ctx.loaders.audio.load(Number(t.id))
      return a && { ...a, url: ctx.signedUrl(`/audio/tracks/${Number(t.id)}`) }
    },
    embedding: async (t: TrackParent, a: VectorArgs, ctx: SimilarityContext) => {
      const { model, space } = await vectorsFor(ctx, a)
      const e = await ctx.similarity.embeddingOf(Number(t.id), model, space)
      return e && Array.from(e.vector)
    },
    predictions: (t: TrackParent, a: { probe: string }, ctx: SimilarityContext) =>
      prediction(ctx, Number(t.id), a.probe),
  },
  Query: {
    models: async (_: unknown, a: { first: number }, ctx: SimilarityContext) => {
      ctx.auth.assertCanRead(ctx.viewer)
      return firstOf(await ctx.models.list(), a.first).map(toModel)
    },
    model: async (_: unknown, a: { name: string }, ctx: SimilarityContext) => {
      ctx.auth.assertCanRead(ctx.viewer)
      const m = await ctx.models.find(a.name)
      return m && toModel(m)
    },
    similarTracks: async (
      _: unknown,
      a: VectorArgs & {
        track?: string
        tracks?: string[]
        embedding?: number[]
        first: number
        filter?: TrackSimilarityFilter
      },
      ctx: SimilarityContext,
    ) => {
      ctx.auth.assertCanRead(ctx.viewer)
      const given = [a.track != null, a.tracks != null, a.embedding != null].filter(Boolean).length
      if (given !== 1) throw new BadInputError('give exactly one of track, tracks or embedding', 'track')
      const trackIds =
        a.track != null ? trackKeys([a.track], 'track') : a.tracks ? trackKeys(a.tracks, 'tracks') : undefined
      const result = await ctx.similarity.similarTracks({
        trackIds,
        embedding: a.embedding ?? undefined,
        ...(await vectorsFor(ctx, a)),
        first: a.first,
        filter: similarityFilter(a.filter),
      })
      return result.tracks.map((t) => ({
        track: ctx.loaders.track.load(t.trackId),
        similarity: t.similarity,
      }))
    },
    similarArtists: (_: unknown, a: SimilarOwnersArgs & { artist: number }, ctx: SimilarityContext) =>
      similarOwners(ctx, 'artist', a.artist, a),
    similarLabels: (_: unknown, a: SimilarOwnersArgs & { label: number }, ctx: SimilarityContext) =>
      similarOwners(ctx, 'label', a.label, a),
    embeddingMap: async (
      _: unknown,
      a: { model?: string; space?: ModelSpace; colorBy: MapColor; limit: number },
      ctx: SimilarityContext,
    ) => {
      ctx.auth.assertCanRead(ctx.viewer)
      if (a.limit < 1 || a.limit > MAP_POINTS)
        throw new BadInputError(`must be between 1 and ${MAP_POINTS}`, 'limit')
      const model = await modelFor(ctx, a.model)
      const space = a.space ?? (model.dims.projection ? 'projection' : 'backbone')
      if (!model.dims[space]) throw new BadInputError(`model ${model.name} has no ${space} space`, 'space')
      const points = await ctx.maps.map(model.id, space, a.colorBy, a.limit)
      const sizes = new Map<string, number>()
      for (const p of points) if (p.group) sizes.set(p.group, (sizes.get(p.group) ?? 0) + 1)
      return {
        model: toModel(model),
        space,
        colorBy: a.colorBy,
        points: points.map((p) => ({ ...p, track: ctx.loaders.track.load(p.trackId) })),
        groups: [...sizes].sort((x, y) => y[1] - x[1]).map(([g]) => g),
      }
    },
    probes: async (_: unknown, a: { first: number }, ctx: SimilarityContext) => {
      ctx.auth.assertCanRead(ctx.viewer)
      return firstOf(await probeObjects(ctx), a.first)
    },
    predictions: (_: unknown, a: { track: string; probe: string }, ctx: SimilarityContext) => {
      ctx.auth.assertCanRead(ctx.viewer)
      return prediction(ctx, numericKey(a.track, 'Track', 'track'), a.probe)
    },
  },
}
