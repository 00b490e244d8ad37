import type { Command } from 'commander'
import { BadInputError } from '../../errors.ts'
import { writeSyntheticCatalog, type SynthSummary } from '../../synth/catalog-writer.ts'
import { DEFAULT_ID_BASE, SIZES, worldOptions, type SynthSize } from '../../synth/world.ts'
import type { CliContext } from '../context.ts'
import { integerOption } from '../options.ts'
import { progressReporter } from '../progress.ts'

interface SynthCliOptions {
  out: string
  seed: number
  size: string
  artists?: number
  labels?: number
  releases?: number
  seconds?: number
  sampleRate: number
  channels: number
  fast?: boolean
  dumpDate: string
  idBase: number
  workers?: number
  json?: boolean
}

const nonNegative = (flag: string) => integerOption(flag, { min: 0 })

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
    .option('--seed <n>', 'random seed (0…4294967295)', nonNegative('--seed'), 1)
    .option(
      '--size <size>',
      `preset: ${Object.entries(SIZES)
        .map(([k, v]) => `${k} (${v.artists} artists, ${v.releases} releases, ~${v.seconds} s tracks)`)
        .join(', ')}`,
      'small',
    )
    .option('--artists <n>', 'artists who release music (overrides the preset)', nonNegative('--artists'))
    .option('--labels <n>', 'record labels (overrides the preset)', nonNegative('--labels'))
    .option(
      '--releases <n>',
      'releases incl. reissues and compilations (overrides the preset)',
      nonNegative('--releases'),
    )
    .option('--seconds <n>', 'mean track length in seconds (overrides the preset)', nonNegative('--seconds'))
    .option('--sample-rate <hz>', 'WAV sample rate', nonNegative('--sample-rate'), 22050)
    .option('--channels <n>', 'WAV channels, 1 or 2', nonNegative('--channels'), 2)
    .option('--fast', '16 kHz mono: what the mel frontend consumes, no resampling or downmix needed')
    .option('--dump-date <YYYYMMDD>', 'date in the dump file names', '20250101')
    .option(
      '--id-base <n>',
      'ids start above this (far above real Discogs ids)',
      nonNegative('--id-base'),
      DEFAULT_ID_BASE,
    )
    .option('--workers <n>', 'render threads (default: available cores, at most 4)', nonNegative('--workers'))
    .option('--json', 'print the summary as JSON on stdout')
    .action(async (o: SynthCliOptions) => {
      const c = ctx()
      if (!(o.size in SIZES))
        throw new BadInputError(`must be one of ${Object.keys(SIZES).join(', ')}, got "${o.size}"`, '--size')
      const channels = o.fast ? 1 : o.channels
      if (channels !== 1 && channels !== 2)
        throw new BadInputError(`must be 1 or 2, got ${channels}`, '--channels')
      let world
      try {
        world = worldOptions(o.size as SynthSize, {
          seed: o.seed,
          idBase: o.idBase,
          artists: o.artists,
          labels: o.labels,
          releases: o.releases,
          seconds: o.seconds,
        })
      } catch (err) {
        if (err instanceof RangeError) throw new BadInputError(err.message)
        throw err
      }
      const progress = progressReporter({
        format: 'rendering [{bar}] {value}/{total} tracks | ETA {eta_formatted}',
        log: (done, total) => c.logger.info({ done, total }, 'rendering synthetic tracks'),
      })
      try {
        const summary = await writeSyntheticCatalog({
          ...world,
          out: o.out,
          sampleRate: o.fast ? 16000 : o.sampleRate,
          channels,
          dumpDate: o.dumpDate,
          workers: o.workers,
          onProgress: (done, total) => progress.update(done, total),
        })
        progress.stop()
        if (o.json) process.stdout.write(JSON.stringify(summary) + '\n')
        else process.stdout.write(formatSummary(summary))
      } finally {
        progress.stop()
      }
    })
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
