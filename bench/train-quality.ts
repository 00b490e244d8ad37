/**
 * npm run bench:train-quality — does training learn? For one training configuration, on a synthetic world:
 * trains (the `train` service, in this process), embeds every track (mean of its patch vectors, unit length,
 * as `discograph embed`), mean-centres the vectors and prints style precision@10 over other artists' other
 * releases (the demo's "similar tracks"), its chance rate, the lift (precision / chance) and the CPU-seconds
 * training took (process.cpuUsage: every thread of this process, so other engineers' load on the machine
 * does not count). The same figures follow for two baselines on the same world: random weights of the same
 * encoder, and the no-learning per-band mel statistics.
 *
 *   npm run bench:train-quality -- --world-seed 11 --config '{"association":"artist","size":"small","steps":1000}'
 *   npm run bench:train-quality -- --world-size demo --world-seed 1 --config '{"association":"artist","size":"tiny","steps":300,"batchSize":16}'
 *
 * Options: --world-size small|demo (default small), --world-seed (default 11), --cache <dir> (default
 * /tmp/discograph-train-quality: one DATA_DIR per world, made by `discograph synth --fast`, `ingest discogs`
 * and `ingest audio` the first time and reused after; its embedded database), --config <json> (training
 * options as the `train` service takes them; anything omitted takes the defaults), --k 10,
 * --space backbone|projection|both (default both), --no-baselines, --backend auto, --results <file> (appends
 * one JSON line per run), --run <name> (measure a run already trained in that world, e.g. the demo's: its
 * DATA_DIR as the world's, with a `world-ready` file in it), --step <n> (measure that checkpoint of the run
 * instead of its last, if kept), --pooling mean,mean-std,mean-max,gem (poolings of the encoder's last feature
 * map to measure the backbone with; each space is also measured with its patch vectors' deviation over the
 * track appended, `+patch-std`). Ends with one JSON line of figures.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { loadConfig } from '../src/config/config.ts'
import { openDatabase, migrate, type Database } from '../src/db/database.ts'
import { AssociationRepository } from '../src/db/repositories/association.repository.ts'
import { AudioFileRepository } from '../src/db/repositories/audio-file.repository.ts'
import { ProbeRepository } from '../src/db/repositories/probe.repository.ts'
import { TrainingRunRepository } from '../src/db/repositories/training-run.repository.ts'
import { featureStorePatchSource } from '../src/services/patch-source.ts'
import { FeatureStore } from '../src/audio/feature-store.ts'
import { createLogger } from '../src/logger.ts'
import { initBackend } from '../src/ml/engine/backend.ts'
import { type EmbeddingSpace } from '../src/ml/embedding/patch-encoder.ts'
import {
  isMapPooling,
  MAP_POOLINGS,
  meanNormalized,
  poolFeatureMap,
  pooledNormalized,
} from '../src/ml/embedding/pooling.ts'
import * as tf from '@tensorflow/tfjs'
import { createContrastiveModel, type ColaModel } from '../src/ml/models/contrastive.ts'
import { ENCODER_SIZES, MEL_BANDS, PATCH_FRAMES } from '../src/ml/models/efficientnet.ts'
import { RELATIONS, retrievalFigures, type RetrievalItem } from '../src/ml/retrieval/metrics.ts'
import { melStatistics, standardise } from '../src/ml/retrieval/mel-statistics.ts'
import { applySearchTransform, fitSearchTransform } from '../src/ml/retrieval/transform.ts'
import { latestCheckpoint, loadCheckpoint } from '../src/ml/training/checkpoints.ts'
import { storedTrainingConfig, trainingConfigSchema } from '../src/ml/training/config.ts'
import { modelForRun, trainContrastive } from '../src/services/training.service.ts'

const { values: opt } = parseArgs({
  options: {
    'world-size': { type: 'string', default: 'small' },
    'world-seed': { type: 'string', default: '11' },
    cache: { type: 'string', default: '/tmp/discograph-train-quality' },
    config: { type: 'string', default: '{}' },
    k: { type: 'string', default: '10' },
    space: { type: 'string', default: 'both' },
    'no-baselines': { type: 'boolean', default: false },
    backend: { type: 'string', default: 'auto' },
    results: { type: 'string' },
    run: { type: 'string' },
    pooling: { type: 'string', default: 'mean' },
    step: { type: 'string' },
  },
})
const worldSize = opt['world-size']
if (!['small', 'demo'].includes(worldSize)) throw new Error('--world-size must be small or demo')
const worldSeed = Number(opt['world-seed'])
const k = Number(opt.k)
const spaces: EmbeddingSpace[] =
  opt.space === 'both' ? ['backbone', 'projection'] : [opt.space as EmbeddingSpace]
const trainingConfig = trainingConfigSchema.parse({ association: 'artist', ...JSON.parse(opt.config) })
const relations = RELATIONS
const poolings = opt.pooling.split(',').map((p) => {
  if (!isMapPooling(p)) throw new Error(`--pooling: ${p} is not one of ${MAP_POOLINGS.join(', ')}`)
  return p
})

const dataDir = path.join(opt.cache, `${worldSize}-${worldSeed}`)
prepareWorld(dataDir)
const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' }
delete env.DATABASE_URL // each world has its own embedded database
const config = loadConfig(env)
const logger = createLogger('warn')
const backend = await initBackend(opt.backend)
console.log(`world ${worldSize} seed ${worldSeed} (${dataDir}); backend ${backend.name}`)

const db = await openDatabase(config)
try {
  await migrate(db)
  const items = await retrievalItems(db)
  const patches = await featureStorePatchSource(db, dataDir)
  const results: Record<string, unknown> = { worldSize, worldSeed, config: trainingConfig }
  try {
    const cpu0 = process.cpuUsage()
    const wall0 = performance.now()
    const existing = opt.run ? await new TrainingRunRepository(db.pool).get(opt.run) : null
    if (opt.run && !existing) throw new Error(`no training run ${opt.run} in ${dataDir}`)
    const run =
      existing ??
      (await trainContrastive(db, config, trainingConfig, patches, {
        name: `bench-${Date.now()}`,
        backend: backend.name,
        logger,
        onProgress: (p) => {
          if (p.entry.valPrecision !== undefined) {
            console.log(
              `  step ${p.step}: loss ${p.entry.loss?.toFixed(3)}, held-out precision@${p.entry.valK} ${p.entry.valPrecision.toFixed(3)} (chance ${p.entry.valChance?.toFixed(3)})`,
            )
          }
        },
      }))
    const cpu = process.cpuUsage(cpu0)
    const cpuSeconds = (cpu.user + cpu.system) / 1e6
    results.run = run.name
    if (existing) results.config = existing.config
    results.trainCpuSeconds = existing ? null : cpuSeconds
    results.trainWallSeconds = (performance.now() - wall0) / 1000
    results.history = run.history
      .filter((h) => h.valPrecision !== undefined)
      .map((h) => [h.step, h.valPrecision, h.valChance])
    console.log(
      `trained ${run.step} steps: ${cpuSeconds.toFixed(0)} CPU-s (${(results.trainWallSeconds as number).toFixed(0)} s wall); metrics ${JSON.stringify(run.metrics)}`,
    )

    const model = modelForRun(run)
    const ckpt = opt.step
      ? loadCheckpoint(path.join(run.checkpointDir, `step-${opt.step.padStart(9, '0')}`))
      : latestCheckpoint(run.checkpointDir)!
    results.step = ckpt.step
    model.setWeights(ckpt.model)
    Object.values(ckpt.model).forEach((t) => t.dispose())
    results.trained = await figuresOf(model, patches, items, 'trained')
    model.dispose()

    if (!opt['no-baselines']) {
      const size = existing ? storedTrainingConfig(existing.config).size : trainingConfig.size
      const pooled = poolings.filter((p) => p !== 'mean')
      const cached = path.join(dataDir, `baselines-${size}-k${k}${pooled.map((p) => `-${p}`).join('')}.json`)
      if (fs.existsSync(cached)) results.baselines = JSON.parse(fs.readFileSync(cached, 'utf8'))
      else {
        const random = createContrastiveModel({ encoder: ENCODER_SIZES[size], heads: 1, seed: 1 })
        const baselines = {
          random: await figuresOf(random, patches, items, `random-${size}`),
          melStatistics: melStatisticsFigures(
            dataDir,
            await new AudioFileRepository(db.pool).tracksWithAudio(),
            items,
          ),
        }
        fs.writeFileSync(cached, JSON.stringify(baselines))
        results.baselines = baselines
      }
      console.log(`summary: style precision@${k} / chance = lift`)
      const rows: [string, unknown][] = [
        ['trained', results.trained],
        ...Object.entries(results.baselines as object),
      ]
      for (const [name, bySpace] of rows) {
        for (const [space, byKind] of Object.entries(bySpace as Record<string, unknown>)) {
          if (typeof byKind !== 'object') continue
          for (const [kind, f] of Object.entries(byKind as Figures))
            print(`${name} ${space} ${kind}`, { style: f.style })
        }
      }
    }
  } finally {
    patches.close()
  }
  const line = JSON.stringify(results)
  console.log(line)
  if (opt.results) fs.appendFileSync(opt.results, line + '\n')
} finally {
  await db.close()
}

/** Per track: its artists, release, labels, styles and genres, as the retrieval metrics compare them. */
async function retrievalItems(db: Database): Promise<RetrievalItem[]> {
  const associations = new AssociationRepository(db.pool)
  const keysOf = async (a: 'artist' | 'release' | 'label') => (await associations.groups(a)).trackGroups
  const [artists, releases, labels] = [await keysOf('artist'), await keysOf('release'), await keysOf('label')]
  const tracks = [...releases.keys()].sort((x, y) => x - y)
  const probes = new ProbeRepository(db.pool)
  const styles = await probes.releaseTags('styles', tracks)
  const genres = await probes.releaseTags('genres', tracks)
  const ids = (keys: string[] | undefined) => (keys ?? []).map((key) => Number(key.slice(1)))
  return tracks.map((id) => ({
    id,
    artists: ids(artists.get(id)),
    release: ids(releases.get(id))[0],
    labels: ids(labels.get(id)),
    styles: styles.get(id) ?? [],
    genres: genres.get(id) ?? [],
  }))
}

type Figure = { precision: number; chance: number; lift: number }
/** By search transform (center, whiten), then relation. */
type Figures = Record<string, Record<string, Figure>>

/**
 * Track vectors of every asked space: `projection`, and `backbone` once per asked pooling of the encoder's
 * last feature map (`backbone` for the mean, `backbone/<pooling>` for the others; one forward pass gives
 * them all), then the same with each track's patch vectors pooled by mean and deviation over the patches
 * (`…+patch-std`, the track-level analogue of the mel statistics' deviation).
 */
async function figuresOf(
  model: ColaModel,
  patches: Awaited<ReturnType<typeof featureStorePatchSource>>,
  items: RetrievalItem[],
  what: string,
): Promise<Figures> {
  const channels = model.encoder.outputDim
  const names = spaces.flatMap((s) =>
    s === 'projection' ? ['projection'] : poolings.map((p) => (p === 'mean' ? 'backbone' : `backbone/${p}`)),
  )
  const allNames = [...names, ...names.map((n) => `${n}+patch-std`)]
  const vectors: Record<string, Float32Array[]> = Object.fromEntries(allNames.map((s) => [s, []]))
  const kept: RetrievalItem[] = []
  const cpu0 = process.cpuUsage()
  const head = model.colaHeads[0]
  const needMap = poolings.some((p) => p !== 'mean')
  for (const item of items) {
    const n = patches.patchCount(item.id)
    const data = await patches.read(Array.from({ length: n }, (_, patch) => ({ trackId: item.id, patch })))
    const rows: Record<string, { values: Float32Array; dims: number }> = {}
    for (let start = 0; start < n; start += 64) {
      const count = Math.min(64, n - start)
      const out = tf.tidy(() => {
        const x = tf.tensor3d(
          data.subarray(start * PATCH_FRAMES * MEL_BANDS, (start + count) * PATCH_FRAMES * MEL_BANDS),
          [count, PATCH_FRAMES, MEL_BANDS],
        )
        const { backbone, featureMap } = model.encoder.embed(x, { training: false, featureMap: needMap })
        return { backbone, featureMap, projection: head.project(backbone) }
      })
      const batch: Record<string, { values: Float32Array; dims: number }> = {
        projection: { values: (await out.projection.data()) as Float32Array, dims: head.dim },
        backbone: { values: (await out.backbone.data()) as Float32Array, dims: channels },
      }
      if (out.featureMap) {
        const map = (await out.featureMap.data()) as Float32Array
        for (const p of poolings) {
          if (p === 'mean') continue
          const pooled = poolFeatureMap(map, count, channels, p)
          batch[`backbone/${p}`] = { values: pooled, dims: pooled.length / count }
        }
      }
      out.projection.dispose()
      out.backbone.dispose()
      out.featureMap?.dispose()
      for (const [name, b] of Object.entries(batch)) {
        const prev = rows[name]
        if (!prev) rows[name] = b
        else {
          const joined = new Float32Array(prev.values.length + b.values.length)
          joined.set(prev.values)
          joined.set(b.values, prev.values.length)
          rows[name] = { values: joined, dims: b.dims }
        }
      }
    }
    const pooled = names.map((name) => meanNormalized(rows[name].values, rows[name].dims))
    const withStd = names.map((name) => pooledNormalized(rows[name].values, rows[name].dims, 'mean-std'))
    if ([...pooled, ...withStd].some((v) => v.some((x) => !Number.isFinite(x)))) continue // counted below
    names.forEach((name, i) => {
      vectors[name].push(pooled[i])
      vectors[`${name}+patch-std`].push(withStd[i])
    })
    kept.push(item)
  }
  if (kept.length < items.length)
    console.log(
      `  ${what}: ${items.length - kept.length} of ${items.length} tracks have non-finite vectors and are left out`,
    )
  const cpu = process.cpuUsage(cpu0)
  console.log(
    `embedded ${items.length} tracks with ${what} in ${((cpu.user + cpu.system) / 1e6).toFixed(0)} CPU-s`,
  )
  const figures: Record<string, Figures> = {}
  for (const s of allNames) {
    figures[s] = transformedFigures(vectors[s], kept)
    for (const [kind, f] of Object.entries(figures[s])) print(`${what} ${s} ${kind}`, f)
  }
  return { ...figures, nonFinite: items.length - kept.length } as unknown as Figures
}

function melStatisticsFigures(
  dir: string,
  tracks: { trackId: number; sha256: string }[],
  items: RetrievalItem[],
): Record<string, Figures> {
  const store = new FeatureStore(dir)
  const byTrack = new Map(tracks.map((t) => [t.trackId, t.sha256]))
  const raw = items.map((item) => {
    const { frames, nFrames } = store.readFrames(byTrack.get(item.id)!)
    return melStatistics(frames.subarray(0, nFrames * MEL_BANDS), MEL_BANDS)
  })
  store.close()
  const figures = {
    mel: { standardised: byRelation(retrievalFigures(standardise(raw), items, { k, relations })) },
  }
  print('mel statistics', figures.mel.standardised)
  return figures
}

/** Figures after the search transforms: mean-centred, and PCA-whitened (the lead's default dims). */
function transformedFigures(vectors: Float32Array[], items: RetrievalItem[]): Figures {
  const out: Figures = {}
  for (const kind of ['center', 'whiten'] as const) {
    const t = fitSearchTransform(vectors, { kind })
    out[kind] = byRelation(
      retrievalFigures(
        vectors.map((v) => applySearchTransform(t, v)),
        items,
        { k, relations },
      ),
    )
  }
  out.standardise = byRelation(retrievalFigures(standardise(vectors), items, { k, relations }))
  return out
}

function byRelation(
  figures: { relation: string; precision: number; chance: number; lift: number }[],
): Record<string, Figure> {
  return Object.fromEntries(
    figures.map((f) => [f.relation, { precision: f.precision, chance: f.chance, lift: f.lift }]),
  )
}

function print(what: string, f: Record<string, Figure>) {
  const parts = relations
    .filter((r) => f[r])
    .map((r) => `${r} ${f[r].precision.toFixed(3)}/${f[r].chance.toFixed(3)} = ${f[r].lift.toFixed(2)}×`)
  console.log(`  ${what.padEnd(22)} P@${k} / chance: ${parts.join(' | ')}`)
}

function prepareWorld(dir: string) {
  const done = path.join(dir, 'world-ready')
  if (fs.existsSync(done)) return
  fs.mkdirSync(dir, { recursive: true })
  const world = path.join(dir, 'world')
  const cli = path.resolve(import.meta.dirname, '../bin/discograph.js')
  const childEnv: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dir, LOG_LEVEL: 'warn' }
  delete childEnv.DATABASE_URL
  const steps = [
    ['synth', '--out', world, '--size', worldSize, '--seed', String(worldSeed), '--fast'],
    ['ingest', 'discogs', world],
    ['ingest', 'audio', path.join(world, 'audio'), '--manifest', path.join(world, 'manifest.csv')],
  ]
  for (const args of steps) {
    console.log(`preparing the world: discograph ${args.join(' ')}`)
    const r = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit', env: childEnv })
    if (r.status !== 0) throw new Error(`discograph ${args.join(' ')} failed (exit ${r.status})`)
  }
  fs.writeFileSync(done, new Date().toISOString())
}
