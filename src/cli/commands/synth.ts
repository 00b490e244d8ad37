import cliProgress from 'cli-progress'
import type { Command } from 'commander'
import { BadInputError } from '../../errors.ts'
import { writeSyntheticCatalog, type SynthSummary } from '../../synth/catalog-writer.ts'
import { DEFAULT_ID_BASE, SIZES, worldOptions, type SynthSize } from '../../synth/world.ts'
import type { CliContext } from '../context.ts'

interface SynthCliOptions {
  out: string
  seed: string
  size: string
  artists?: string
  labels?: string
  releases?: string
  seconds?: string
  sampleRate: string
  channels: string
  fast?: boolean
  dumpDate: string
  idBase: string
  workers?: string
  json?: boolean
}

export function registerSynthCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('synth')
    .description(
      'write a synthetic catalog: Discogs-format dumps, a WAV file per track whose sound carries the artist, ' +
        'label, release and style structure, manifest.csv and truth.json. Deterministic from --seed.',
    )
    .requiredOption(
      '--out <dir>',
      'output directory (created; a previous synthetic catalog in it is replaced)',
    )
    .option('--seed <n>', 'random seed (0…4294967295)', '1')
    .option(
      '--size <size>',
      `preset: ${Object.entries(SIZES)
        .map(([k, v]) => `${k} (${v.artists} artists, ${v.releases} releases, ~${v.seconds} s tracks)`)
        .join(', ')}`,
      'small',
    )
    .option('--artists <n>', 'artists who release music (overrides the preset)')
    .option('--labels <n>', 'record labels (overrides the preset)')
    .option('--releases <n>', 'releases incl. reissues and compilations (overrides the preset)')
    .option('--seconds <n>', 'mean track length in seconds (overrides the preset)')
    .option('--sample-rate <hz>', 'WAV sample rate', '22050')
    .option('--channels <n>', 'WAV channels, 1 or 2', '2')
    .option('--fast', '16 kHz mono: what the mel frontend consumes, no resampling or downmix needed')
    .option('--dump-date <YYYYMMDD>', 'date in the dump file names', '20250101')
    .option('--id-base <n>', 'ids start above this (far above real Discogs ids)', String(DEFAULT_ID_BASE))
    .option('--workers <n>', 'render threads (default: available cores, at most 4)')
    .option('--json', 'print the summary as JSON on stdout')
    .action(async (o: SynthCliOptions) => {
      const c = ctx()
      if (!(o.size in SIZES))
        throw new BadInputError(`must be one of ${Object.keys(SIZES).join(', ')}, got "${o.size}"`, '--size')
      const channels = o.fast ? 1 : int(o.channels, '--channels')
      if (channels !== 1 && channels !== 2)
        throw new BadInputError(`must be 1 or 2, got ${channels}`, '--channels')
      let world
      try {
        world = worldOptions(o.size as SynthSize, {
          seed: int(o.seed, '--seed'),
          idBase: int(o.idBase, '--id-base'),
          artists: optInt(o.artists, '--artists'),
          labels: optInt(o.labels, '--labels'),
          releases: optInt(o.releases, '--releases'),
          seconds: optInt(o.seconds, '--seconds'),
        })
      } catch (err) {
        if (err instanceof RangeError) throw new BadInputError(err.message)
        throw err
      }
      const progress = progressReporter(c)
      try {
        const summary = await writeSyntheticCatalog({
          ...world,
          out: o.out,
          sampleRate: o.fast ? 16000 : int(o.sampleRate, '--sample-rate'),
          channels,
          dumpDate: o.dumpDate,
          workers: optInt(o.workers, '--workers'),
          onProgress: progress.update,
        })
        progress.stop()
        if (o.json) process.stdout.write(JSON.stringify(summary) + '\n')
        else process.stdout.write(formatSummary(summary))
      } finally {
        progress.stop()
      }
    })
}

function int(s: string, flag: string): number {
  if (!/^\d+$/.test(s.trim())) throw new BadInputError(`must be a non-negative integer, got "${s}"`, flag)
  return Number(s)
}

function optInt(s: string | undefined, flag: string): number | undefined {
  return s === undefined ? undefined : int(s, flag)
}

function progressReporter(c: CliContext): {
  update: (done: number, total: number) => void
  stop: () => void
} {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: 'rendering [{bar}] {value}/{total} tracks | ETA {eta_formatted}',
        stream: process.stderr,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    )
    let active = false
    return {
      update(done, total) {
        if (!active) bar.start(total, 0)
        active = true
        bar.update(done)
      },
      stop() {
        if (active) bar.stop()
        active = false
      },
    }
  }
  let last = 0
  return {
    update(done, total) {
      const now = performance.now()
      if (done !== total && now - last < 5000) return
      last = now
      c.logger.info({ done, total }, 'rendering synthetic tracks')
    },
    stop() {},
  }
}

function formatSummary(s: SynthSummary): string {
  return (
    [
      `synthetic catalog (seed ${s.seed}) in ${s.out} after ${s.elapsedSeconds.toFixed(1)} s`,
      `  dumps:    ${Object.values(s.dumps).join('\n            ')}`,
      `  records:  ${s.records.artists} artists, ${s.records.labels} labels, ${s.records.masters} masters, ${s.records.releases} releases ` +
        `(${s.releases.originals} originals, ${s.releases.reissues} reissues, ${s.releases.compilations} compilations)`,
      `  audio:    ${s.audioFiles} WAV files, ${Math.round(s.audioSeconds)} s at ${s.sampleRate} Hz × ${s.channels} (${s.workers} render threads)`,
      `  manifest: ${s.manifest}`,
      `  truth:    ${s.truth}`,
    ].join('\n') + '\n'
  )
}
