import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { escapeAttr, escapeText, formatDuration } from '../../src/synth/dump-xml.ts'

/**
 * A small Discogs catalog for real encoded music that carries no Discogs tags (game soundtracks installed
 * by Debian packages): dumps of artists, labels and releases in the monthly dumps' format, one release per
 * artist holding its files as tracks, and a manifest linking each file to its track, so that
 * `ingest discogs` + `ingest audio --manifest` link every file and the artist, release and label
 * associations have groups of two or more tracks.
 */

/** Debian's planetblupi-music-ogg (scripts/install-real-music.sh): 10 Ogg Vorbis loops, 44.1 kHz stereo. */
export const PLANETBLUPI_MUSIC = '/usr/share/planetblupi/music'

/** The audio files of a folder, sorted; [] when the folder does not exist. */
export function realMusicFiles(dir = PLANETBLUPI_MUSIC, extensions = ['.ogg', '.opus']): string[] {
  if (!fs.existsSync(dir)) return []
  return fs
    .readdirSync(dir)
    .filter((f) => extensions.includes(path.extname(f).toLowerCase()))
    .sort()
    .map((f) => path.join(dir, f))
}

export interface RealMusicCatalog {
  /** the folder to import (`ingest audio <audioDir> --manifest <manifest>`): symbolic links to the files */
  audioDir: string
  manifest: string
  /** the dump files, for `ingest discogs` */
  dumps: string[]
  /** release id of each file, in the order given */
  releaseOf: Map<string, number>
}

/**
 * Writes the catalog under `out` (created). File i belongs to artist i mod `artists`, whose one release
 * (on label i mod `labels`) lists its files as tracks A1, A2, … Ids start above `idBase`, out of the way of
 * real Discogs ids as the synthetic catalog's are.
 */
export function writeRealMusicCatalog(
  out: string,
  files: readonly string[],
  options: {
    artists: number
    labels?: number
    idBase?: number
    date?: string
    durations?: Map<string, number>
  },
): RealMusicCatalog {
  const base = options.idBase ?? 910_000_000
  const nLabels = options.labels ?? Math.max(1, Math.ceil(options.artists / 2))
  const date = options.date ?? '20250101'
  const audioDir = path.join(out, 'audio')
  fs.mkdirSync(audioDir, { recursive: true })

  const byArtist: string[][] = Array.from({ length: options.artists }, () => [])
  files.forEach((f, i) => byArtist[i % options.artists].push(f))
  const artistName = (a: number) => `Real Artist ${a + 1}`
  const labelName = (l: number) => `Real Label ${l + 1}`

  const artists = byArtist.map(
    (_, a) =>
      `<artist><id>${base + a + 1}</id><name>${escapeText(artistName(a))}</name><profile/><data_quality>Correct</data_quality></artist>`,
  )
  const labels = Array.from(
    { length: nLabels },
    (_, l) =>
      `<label><id>${base + l + 1}</id><name>${escapeText(labelName(l))}</name><contactinfo/><profile/><data_quality>Correct</data_quality></label>`,
  )
  const releaseOf = new Map<string, number>()
  const manifest = ['path,release_id,position']
  const releases = byArtist.flatMap((tracks, a) => {
    if (!tracks.length) return []
    const id = base + a + 1
    const label = a % nLabels
    const tracklist = tracks.map((file, t) => {
      const position = `A${t + 1}`
      const link = path.join(audioDir, `${a + 1}-${t + 1}-${path.basename(file)}`)
      fs.rmSync(link, { force: true })
      fs.symlinkSync(file, link)
      manifest.push(`"${path.relative(out, link).replace(/"/g, '""')}",${id},${position}`)
      releaseOf.set(file, id)
      const seconds = options.durations?.get(file)
      const duration =
        seconds === undefined ? '<duration/>' : `<duration>${formatDuration(seconds)}</duration>`
      return `<track><position>${position}</position><title>${escapeText(path.basename(file, path.extname(file)))}</title>${duration}</track>`
    })
    return [
      `<release${attr('id', id)}${attr('status', 'Accepted')}>` +
        `<artists><artist><id>${id}</id><name>${escapeText(artistName(a))}</name><anv/><join/><role/><tracks/></artist></artists>` +
        `<title>${escapeText(`Soundtrack ${a + 1}`)}</title>` +
        `<labels><label${attr('name', labelName(label))}${attr('catno', `RM${a + 1}`)}${attr('id', base + label + 1)}/></labels>` +
        `<formats><format${attr('name', 'File')}${attr('qty', 1)}${attr('text', '')}><descriptions><description>Album</description></descriptions></format></formats>` +
        `<genres><genre>Electronic</genre></genres><styles><style>Soundtrack</style></styles>` +
        `<country>Switzerland</country><released>2021</released><notes/><data_quality>Correct</data_quality>` +
        `<tracklist>${tracklist.join('')}</tracklist></release>`,
    ]
  })

  const dumps = [
    writeDump(out, date, 'artists', artists),
    writeDump(out, date, 'labels', labels),
    writeDump(out, date, 'releases', releases),
  ]
  const manifestFile = path.join(out, 'manifest.csv')
  fs.writeFileSync(manifestFile, manifest.join('\n') + '\n')
  return { audioDir, manifest: manifestFile, dumps, releaseOf }
}

function attr(name: string, value: string | number): string {
  return ` ${name}="${escapeAttr(String(value))}"`
}

function writeDump(out: string, date: string, type: string, records: string[]): string {
  const file = path.join(out, `discogs_${date}_${type}.xml.gz`)
  fs.writeFileSync(file, zlib.gzipSync(`<${type}>\n${records.map((r) => r + '\n').join('')}</${type}>\n`))
  return file
}
