import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Worker } from 'node:worker_threads'
import zlib from 'node:zlib'
import { INFO_TAGS } from '../audio/wav.ts'
import { BadInputError, DiscographError } from '../errors.ts'
import { runAudioJob, type AudioJob } from './audio-job.ts'
import { artistXml, dumpXml, labelXml, masterXml, releaseXml } from './dump-xml.ts'
import { STYLES, styleByName } from './vocabulary.ts'
import {
  flattenAudible,
  generateWorld,
  type SynthRelease,
  type SynthWorld,
  type WorldOptions,
} from './world.ts'

/**
 * Writes a synthetic catalog to a directory: the four Discogs dump files, one WAV per audible track
 * (audio/<artist>/<release> [<id>]/<nn> <title>.wav), manifest.csv (path, release_id, position) and
 * truth.json (what each track really is, for evaluation). Deterministic: the same options give
 * byte-identical files.
 */

export interface SynthCatalogOptions extends WorldOptions {
  out: string
  /** output sample rate (Hz) and channels of the WAV files */
  sampleRate: number
  channels: 1 | 2
  /** YYYYMMDD in the dump file names */
  dumpDate: string
  /** render threads; 1 renders in this thread. Default: the cores available, at most 4. */
  workers?: number
  onProgress?: (done: number, total: number) => void
}

export interface SynthSummary {
  out: string
  seed: number
  dumpDate: string
  dumps: Record<'artists' | 'labels' | 'masters' | 'releases', string>
  manifest: string
  truth: string
  records: { artists: number; labels: number; masters: number; releases: number }
  releases: { originals: number; reissues: number; compilations: number }
  audioFiles: number
  audioSeconds: number
  sampleRate: number
  channels: number
  workers: number
  elapsedSeconds: number
}

/** A track could not be rendered or written. */
export class SynthRenderError extends DiscographError {
  readonly code = 'SYNTH_RENDER'
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`)
  }
}

/** One audible track of the catalog with its file, as listed in the manifest and truth.json. */
export interface TruthTrack {
  path: string
  releaseId: number
  position: string
  title: string
  /** the artist whose sound the track has (the track artist on compilations) */
  artistId: number
  artistName: string
  /** artists credited: the track's own when the tracklist names them, else the release's */
  creditedArtistIds: number[]
  labelIds: number[]
  labelNames: string[]
  genre: string
  /** the release's styles, and the one style the track was rendered in */
  styles: string[]
  style: string
  masterId: number | null
  /** one id per recording: reissues and compilation appearances share their original's */
  recording: number
  durationS: number
  tempo: number
  key: string
}

const PITCH_NAMES = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B']

export async function writeSyntheticCatalog(opts: SynthCatalogOptions): Promise<SynthSummary> {
  const t0 = performance.now()
  if (!/^\d{8}$/.test(opts.dumpDate))
    throw new BadInputError(`must be YYYYMMDD, got "${opts.dumpDate}"`, 'dumpDate')
  if (![8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000].includes(opts.sampleRate))
    throw new BadInputError(`unsupported sample rate ${opts.sampleRate}`, 'sampleRate')
  const out = path.resolve(opts.out)
  prepareOutDir(out)
  const world = generateWorld(opts)

  const dumps = writeDumps(world, out, opts.dumpDate)
  const { jobs, truth } = audioPlan(world, out, opts)
  const manifest = path.join(out, 'manifest.csv')
  fs.writeFileSync(
    manifest,
    'path,release_id,position\n' +
      truth.map((t) => [t.path, String(t.releaseId), t.position].map(csvField).join(',') + '\n').join(''),
  )
  const truthFile = path.join(out, 'truth.json')
  fs.writeFileSync(truthFile, JSON.stringify(truthDocument(world, opts, truth), null, 1) + '\n')

  const workers = Math.max(1, Math.min(opts.workers ?? Math.min(4, os.availableParallelism()), jobs.length))
  const audioSeconds = truth.reduce((s, t) => s + t.durationS, 0)
  // Starting a worker (and its TypeScript loader) costs a few hundred ms: not worth it for a handful.
  await renderAll(jobs, audioSeconds < 120 ? 1 : workers, opts.onProgress)

  return {
    out,
    seed: opts.seed,
    dumpDate: opts.dumpDate,
    dumps,
    manifest,
    truth: truthFile,
    records: {
      artists: world.artists.length,
      labels: world.labels.length,
      masters: world.masters.length,
      releases: world.releases.length,
    },
    releases: {
      originals: world.releases.filter((r) => r.kind !== 'compilation' && r.reissueOf === null).length,
      reissues: world.releases.filter((r) => r.reissueOf !== null).length,
      compilations: world.releases.filter((r) => r.kind === 'compilation').length,
    },
    audioFiles: jobs.length,
    audioSeconds,
    sampleRate: opts.sampleRate,
    channels: opts.channels,
    workers: audioSeconds < 120 ? 1 : workers,
    elapsedSeconds: (performance.now() - t0) / 1000,
  }
}

/**
 * Creates the output directory, or clears a previous synthetic catalog in it (dumps, audio, manifest)
 * so no stale file survives; refuses a non-empty directory that is not one.
 */
function prepareOutDir(out: string): void {
  if (fs.existsSync(out)) {
    if (!fs.statSync(out).isDirectory())
      throw new BadInputError(`${out} exists and is not a directory`, '--out')
    const entries = fs.readdirSync(out)
    if (entries.length && !entries.includes('truth.json'))
      throw new BadInputError(
        `${out} is not empty and holds no synthetic catalog (no truth.json); refusing to write into it`,
        '--out',
      )
    for (const e of entries)
      if (
        e === 'audio' ||
        e === 'manifest.csv' ||
        e === 'truth.json' ||
        /^discogs_\d{8}_(artists|labels|masters|releases)\.xml\.gz$/.test(e)
      )
        fs.rmSync(path.join(out, e), { recursive: true, force: true })
  }
  fs.mkdirSync(out, { recursive: true })
}

function writeDumps(world: SynthWorld, out: string, date: string): SynthSummary['dumps'] {
  const write = (type: string, xml: string) => {
    const file = path.join(out, `discogs_${date}_${type}.xml.gz`)
    // gzip from zlib writes mtime 0 in its header, so equal text gives equal bytes.
    fs.writeFileSync(file, zlib.gzipSync(Buffer.from(xml, 'utf8'), { level: 6 }))
    return file
  }
  return {
    artists: write('artists', dumpXml('artists', world.artists, artistXml)),
    labels: write('labels', dumpXml('labels', world.labels, labelXml)),
    masters: write('masters', dumpXml('masters', world.masters, masterXml)),
    releases: write('releases', dumpXml('releases', world.releases, releaseXml)),
  }
}

/** Every audible track's file, render job and truth record, in release then tracklist order. */
function audioPlan(
  world: SynthWorld,
  out: string,
  opts: SynthCatalogOptions,
): { jobs: AudioJob[]; truth: TruthTrack[] } {
  const artistName = new Map(world.artists.map((a) => [a.id, a.name]))
  const jobs: AudioJob[] = []
  const truth: TruthTrack[] = []
  for (const r of world.releases) {
    const mainArtist = r.artists.map((a) => a.name).join(' & ')
    const dir = path.join('audio', safeName(mainArtist), `${safeName(r.title)} [${r.id}]`)
    flattenAudible(r.tracks).forEach((t, i) => {
      const nn = String(i + 1).padStart(2, '0')
      const rel = path.join(dir, `${nn} ${safeName(t.title)}.wav`)
      const render = t.render!
      const soundArtist = t.soundArtistId!
      const credited = t.artists.length ? t.artists : r.artists
      const style = styleByName(render.style)
      jobs.push({
        file: path.join(out, rel),
        render,
        format: { sampleRate: opts.sampleRate, channels: opts.channels },
        tags: {
          [INFO_TAGS.title]: t.title,
          // Taggers write the performer as artist: the release's artist, or the track's on a compilation.
          [INFO_TAGS.artist]: credited.map((a) => a.name).join(' & '),
          [INFO_TAGS.album]: r.title,
          [INFO_TAGS.track]: String(i + 1),
          [INFO_TAGS.date]: String(r.year),
        },
      })
      truth.push({
        path: rel.split(path.sep).join('/'),
        releaseId: r.id,
        position: t.position,
        title: t.title,
        artistId: soundArtist,
        artistName: artistName.get(soundArtist) ?? '',
        creditedArtistIds: credited.map((a) => a.artistId),
        labelIds: r.labels.map((l) => l.id),
        labelNames: r.labels.map((l) => l.name),
        genre: style.genre,
        styles: r.styles,
        style: render.style,
        masterId: r.masterId,
        recording: render.musicSeed,
        durationS: t.durationS!,
        tempo: render.tempo,
        key: `${PITCH_NAMES[render.tonic]} ${render.minor ? 'minor' : 'major'}`,
      })
    })
  }
  return { jobs, truth }
}

function truthDocument(world: SynthWorld, opts: SynthCatalogOptions, tracks: TruthTrack[]) {
  const releaseSummary = (r: SynthRelease) => ({
    id: r.id,
    title: r.title,
    kind: r.kind,
    artistIds: r.artists.map((a) => a.artistId),
    labelIds: r.labels.map((l) => l.id),
    masterId: r.masterId,
    isMainRelease: r.isMainRelease,
    reissueOf: r.reissueOf,
    genres: r.genres,
    styles: r.styles,
    year: r.year,
  })
  return {
    generator: 'discograph synth',
    seed: opts.seed,
    dumpDate: opts.dumpDate,
    options: {
      artists: opts.artists,
      labels: opts.labels,
      releases: opts.releases,
      seconds: opts.seconds,
      idBase: opts.idBase,
      sampleRate: opts.sampleRate,
      channels: opts.channels,
    },
    styles: STYLES.map((s) => ({ name: s.name, genre: s.genre })),
    artists: world.artists
      .filter((a) => a.sound)
      .map((a) => ({
        id: a.id,
        name: a.name,
        genre: a.genre,
        styles: a.styles,
        aliases: a.aliases.map((x) => x.id),
      })),
    labels: world.labels
      .filter((l) => l.kind === 'label')
      .map((l) => ({
        id: l.id,
        name: l.name,
        parentId: l.parent?.id ?? null,
        genre: l.genre,
        styles: Object.entries(l.styleWeights)
          .filter(([, w]) => w >= 1)
          .map(([s]) => s),
      })),
    releases: world.releases.map(releaseSummary),
    tracks,
  }
}

async function renderAll(
  jobs: AudioJob[],
  workers: number,
  onProgress?: (done: number, total: number) => void,
): Promise<void> {
  let done = 0
  onProgress?.(0, jobs.length)
  if (workers <= 1) {
    for (const job of jobs) {
      try {
        runAudioJob(job)
      } catch (err) {
        throw new SynthRenderError(job.file, err instanceof Error ? err.message : String(err))
      }
      onProgress?.(++done, jobs.length)
    }
    return
  }
  // Longest first, so the last job to start is a short one and the cores finish together.
  const order = jobs.map((_, i) => i).sort((a, b) => jobs[b].render.seconds - jobs[a].render.seconds || a - b)
  let next = 0
  const pool = Array.from(
    { length: workers },
    () => new Worker(new URL('./render-worker.js', import.meta.url)),
  )
  try {
    await Promise.all(
      pool.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const feed = () => {
              if (next >= order.length) return resolve()
              const index = order[next++]
              w.postMessage({ index, job: jobs[index] })
            }
            w.on('message', (m: { index: number; frames?: number; error?: string }) => {
              if (m.error) return reject(new SynthRenderError(jobs[m.index].file, m.error))
              onProgress?.(++done, jobs.length)
              feed()
            })
            w.on('error', reject)
            w.on('exit', (code) => {
              if (next < order.length || code !== 0)
                reject(new Error(`a render worker exited early (code ${code})`))
            })
            feed()
          }),
      ),
    )
  } finally {
    await Promise.all(pool.map((w) => w.terminate()))
  }
}

/** A file or folder name from a title: no path separators, reserved or control characters. */
export function safeName(s: string): string {
  const t = s
    .normalize('NFC')
    // eslint-disable-next-line no-control-regex -- control characters are exactly what must go
    .replace(/[/\\:*?"<>|\u0000-\u001f]/g, '_')
    .replace(/^[.\s]+|[.\s]+$/g, '')
    .slice(0, 100)
  return t || '_'
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}
