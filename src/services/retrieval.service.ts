import { FeatureStore } from '../audio/feature-store.ts'
import { MEL_BANDS } from '../audio/mel.ts'
import type { Database } from '../db/database.ts'
import { AudioFileRepository } from '../db/repositories/audio-file.repository.ts'
import { EmbeddingRepository } from '../db/repositories/embedding.repository.ts'
import { ModelRepository, type ModelRow, type ModelSpace } from '../db/repositories/model.repository.ts'
import { ProbeRepository } from '../db/repositories/probe.repository.ts'
import { RetrievalRepository } from '../db/repositories/retrieval.repository.ts'
import { SearchVectorRepository } from '../db/repositories/search-vector.repository.ts'
import { BadInputError } from '../errors.ts'
import type { Logger } from '../logger.ts'
import { melStatistics, standardise } from '../ml/retrieval/mel-statistics.ts'
import {
  RELATIONS,
  retrievalFigures,
  type Relation,
  type RetrievalFigure,
  type RetrievalItem,
} from '../ml/retrieval/metrics.ts'
import { applySearchTransform, fitSearchTransform, type TransformKind } from '../ml/retrieval/transform.ts'
import { groupedBarChartSvg } from '../report/chart.ts'
import { writeReportFiles, type ReportFiles } from '../report/files.ts'

/**
 * Retrieval evaluation: what a user of "similar tracks" gets. Every embedded track queries its k nearest
 * tracks among the others, ranked exactly by the cosine of the vectors the API serves (the search vectors),
 * other artists and other releases only (what the track page asks; artist retrieval keeps the artist's other
 * releases). Beside each model: the no-learning baseline (mel statistics), and optionally the same model's
 * vectors under other transforms, which is how the default transform was chosen.
 */

export interface RetrievalRow {
  label: string
  /** the model's name, or null for the mel-statistics baseline */
  model: string | null
  kind: 'random' | 'trained' | 'onnx' | 'baseline'
  space: ModelSpace | null
  /** how the vectors were compared: the served transform, or one fitted here for comparison */
  transform: string
  served: boolean
  figures: RetrievalFigure[]
}

export interface RetrievalReport {
  k: number
  /** tracks embedded by every compared model: every row ranks the same tracks */
  tracks: number
  chance: Record<Relation, number>
  rows: RetrievalRow[]
  markdown: string
}

export interface RetrievalOptions {
  models?: readonly string[]
  spaces?: readonly ModelSpace[]
  k?: number
  /** also rank each model's vectors raw, centred and whitened (fitted here on all evaluated tracks) */
  compareTransforms?: boolean
  /** whitening widths compared (default 32, 64, 128) */
  whitenDims?: readonly number[]
  /** the mel-statistics row (default true) */
  baseline?: boolean
  /** write each model's served figures into its metrics (default true) */
  store?: boolean
  logger?: Logger
}

/** Ranks of whole libraries are quadratic: a figure on 5000 sampled tracks has a spread far below its lift. */
const MAX_TRACKS = 5000

export async function evaluateRetrieval(
  db: Pick<Database, 'pool' | 'kind'>,
  dataDir: string,
  options: RetrievalOptions = {},
): Promise<RetrievalReport> {
  const k = options.k ?? 10
  if (!Number.isInteger(k) || k < 1 || k > 100)
    throw new BadInputError(`must be an integer from 1 to 100, got ${k}`, '--k')
  const probeRepo = new ProbeRepository(db.pool)
  const modelRepo = new ModelRepository(db.pool)
  const searchRepo = new SearchVectorRepository(db.pool)
  const embeddings = new EmbeddingRepository(db.pool, db.kind)
  const spaces = options.spaces?.length ? options.spaces : (['projection', 'backbone'] as const)

  const refs = await probeRepo.models(options.models?.length ? options.models : undefined)
  if (options.models?.length) {
    const missing = options.models.filter((m) => !refs.some((r) => r.name === m || String(r.id) === m))
    if (missing.length) throw new BadInputError(`no model ${missing.join(', ')}`, '--models')
  }
  const targets = refs.flatMap((m) => spaces.filter((s) => m.embedded[s]).map((s) => ({ ref: m, space: s })))
  if (!targets.length)
    throw new BadInputError(
      'no model has vectors yet; run `discograph embed --model <model>` first',
      '--models',
    )

  // the tracks every (model, space) has a search vector of
  let trackIds: number[] | undefined
  const served = new Map<string, Map<number, Float32Array>>()
  for (const t of targets) {
    const v = await searchRepo.vectors(t.ref.id, t.space)
    served.set(`${t.ref.id}:${t.space}`, v)
    trackIds = (trackIds ?? [...v.keys()]).filter((id) => v.has(id))
  }
  trackIds = sampleIds(trackIds ?? [], MAX_TRACKS)
  if (trackIds.length < 2)
    throw new BadInputError('fewer than 2 tracks have vectors of every model compared', '--models')
  const items = await new RetrievalRepository(db.pool).items(trackIds)
  const ids = items.map((i) => i.id)
  const relations = RELATIONS
  const rows: RetrievalRow[] = []
  const modelRows = new Map<number, ModelRow>()

  for (const t of targets) {
    const model = (await modelRepo.byId(t.ref.id))!
    modelRows.set(model.id, model)
    const transform = await searchRepo.transform(model.id, t.space)
    const vectors = served.get(`${model.id}:${t.space}`)!
    rows.push({
      label: `${model.name} (${t.space})`,
      model: model.name,
      kind: model.kind,
      space: t.space,
      transform: describeTransform(transform?.kind ?? 'raw', transform?.outDims),
      served: true,
      figures: retrievalFigures(
        ids.map((id) => vectors.get(id)!),
        items,
        { k, relations },
      ),
    })
    if (options.compareTransforms) {
      const raw = await embeddings.vectors(model.id, t.space, ids)
      const rawVectors = ids.map((id) => raw.get(id)!)
      const choices: { kind: TransformKind; dims?: number }[] = [
        { kind: 'raw' },
        { kind: 'center' },
        ...(options.whitenDims ?? [32, 64, 128]).map((dims) => ({ kind: 'whiten' as const, dims })),
      ]
      for (const c of choices) {
        const fitted = fitSearchTransform(rawVectors, c)
        if (c.kind === 'whiten' && fitted.outDims < c.dims!) continue
        rows.push({
          label: `${model.name} (${t.space}), ${describeTransform(c.kind, fitted.outDims)}`,
          model: model.name,
          kind: model.kind,
          space: t.space,
          transform: describeTransform(c.kind, fitted.outDims),
          served: false,
          figures: retrievalFigures(
            rawVectors.map((v) => applySearchTransform(fitted, v)),
            items,
            { k, relations },
          ),
        })
      }
    }
  }
  if (options.baseline ?? true) {
    const baseline = await melStatisticsVectors(db, dataDir, ids)
    if (baseline)
      rows.unshift({
        label: 'mel statistics (no learning)',
        model: null,
        kind: 'baseline',
        space: null,
        transform: 'per-band mean and std, standardised',
        served: false,
        figures: retrievalFigures(baseline, items, { k, relations }),
      })
  }
  const first = rows[0].figures
  const chance = Object.fromEntries(first.map((f) => [f.relation, f.chance])) as Record<Relation, number>
  const report = { k, tracks: ids.length, chance, rows }

  if (options.store ?? true) {
    const baselineRow = rows.find((r) => r.kind === 'baseline')
    for (const [modelId, model] of modelRows) {
      const mine = rows.filter((r) => r.served && r.model === model.name)
      await modelRepo.setMetrics(modelId, {
        retrieval: {
          k,
          tracks: ids.length,
          evaluatedAt: new Date().toISOString(),
          spaces: Object.fromEntries(
            mine.map((r) => [r.space, { transform: r.transform, figures: r.figures }]),
          ),
          baseline: baselineRow ? baselineRow.figures : null,
        },
      })
    }
  }
  options.logger?.info({ tracks: ids.length, rows: rows.length }, 'retrieval evaluated')
  return { ...report, markdown: retrievalMarkdown(report) }
}

function describeTransform(kind: string, dims?: number): string {
  return kind === 'whiten' ? `whiten ${dims}` : kind
}

/** Every n-th id so the sample spreads over the library and repeats run to run. */
function sampleIds(ids: number[], max: number): number[] {
  if (ids.length <= max) return ids
  const step = ids.length / max
  return Array.from({ length: max }, (_, i) => ids[Math.floor(i * step)])
}

/** The no-learning baseline of the tracks, in order; null when their mel frames are not on this machine. */
async function melStatisticsVectors(
  db: Pick<Database, 'pool'>,
  dataDir: string,
  trackIds: readonly number[],
): Promise<Float32Array[] | null> {
  const audio = new Map((await new AudioFileRepository(db.pool).tracksWithAudio()).map((t) => [t.trackId, t]))
  const store = new FeatureStore(dataDir)
  try {
    const out: Float32Array[] = []
    for (const id of trackIds) {
      const a = audio.get(id)
      if (!a || !store.has(a.sha256)) return null
      out.push(melStatistics(store.readFrames(a.sha256).frames, MEL_BANDS))
    }
    return standardise(out)
  } finally {
    store.close()
  }
}

export function retrievalMarkdown(report: Omit<RetrievalReport, 'markdown'>): string {
  const header = [
    'vectors',
    ...RELATIONS.flatMap((r) => [`${r} P@${report.k}`, `${r} mAP@${report.k}`, `${r} lift`]),
  ]
  const fmt = (v: number) => (Number.isFinite(v) ? (v * 100).toFixed(1) : '-')
  const lift = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '-')
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`
  const body = report.rows.map((r) =>
    line([
      r.label + (r.served ? ` — ${r.transform}, served` : ''),
      ...RELATIONS.flatMap((rel) => {
        const f = r.figures.find((x) => x.relation === rel)
        return f ? [fmt(f.precision), fmt(f.map), lift(f.lift)] : ['-', '-', '-']
      }),
    ]),
  )
  const chance = line([
    'chance (random ranking)',
    ...RELATIONS.flatMap((rel) => [fmt(report.chance[rel]), '', '1.00×']),
  ])
  return [
    line(header),
    `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...body,
    chance,
    '',
    `- Precision@${report.k} and mAP@${report.k} in %, lift = precision / chance, over ${report.tracks} tracks. Each track queries the others ranked ` +
      'exactly by cosine of the vectors shown, other artists and other releases only (artist: same artist on other releases); ' +
      'chance = the share of relevant candidates per query, averaged.',
    '',
  ].join('\n')
}

export function retrievalSvg(report: Omit<RetrievalReport, 'markdown'>): string {
  return groupedBarChartSvg({
    title: `Retrieval precision@${report.k} (${report.tracks} tracks, other artists and releases)`,
    groups: RELATIONS.map((r) => `${r} P@${report.k}`),
    series: [
      { name: 'chance', values: RELATIONS.map((r) => report.chance[r]) },
      ...report.rows.map((r) => ({
        name: r.label,
        values: RELATIONS.map((rel) => r.figures.find((f) => f.relation === rel)?.precision),
      })),
    ],
  })
}

/** Writes retrieval.md, retrieval.svg and retrieval.json into `dir`. */
export function writeRetrieval(report: RetrievalReport, dir: string): ReportFiles {
  return writeReportFiles(dir, 'retrieval', {
    markdown: report.markdown,
    svg: retrievalSvg(report),
    json: report,
  })
}

export type { RetrievalItem }
