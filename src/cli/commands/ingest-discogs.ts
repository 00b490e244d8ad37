import type { Command } from 'commander'
import { BadInputError } from '../../errors.ts'
import {
  defaultParseWorkers,
  importDiscogsDumps,
  type DiscogsImportProgress,
  type DiscogsImportSummary,
} from '../../services/import.service.ts'
import { integerOption } from '../options.ts'
import { withDatabase, type CliContext } from '../context.ts'
import { progressReporter } from '../progress.ts'

/**
 * The `ingest` parent command, shared by every `ingest <source>` subcommand: returns the existing one or
 * creates it, so each source registers from its own file in any order.
 */
export function ingestCommand(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === 'ingest') ??
    program.command('ingest').description('load external data into the catalog')
  )
}

export function registerIngestDiscogsCommand(program: Command, ctx: () => CliContext): void {
  ingestCommand(program)
    .command('discogs')
    .description(
      'import Discogs monthly XML dumps (discogs_YYYYMMDD_{artists,labels,masters,releases}.xml[.gz]); ' +
        'directories expand to the dump files inside. Re-running is safe: unchanged records are skipped, ' +
        'an interrupted file resumes.',
    )
    .argument('<paths...>', 'dump files or directories holding them')
    .option('--json', 'print the summary as JSON on stdout')
    .option('--dump-date <YYYYMMDD>', 'dump date for files not named discogs_YYYYMMDD_<type>.xml[.gz]')
    .option(
      '--parse-workers <n>',
      `parse worker threads (default ${defaultParseWorkers()}: one per core but one)`,
      integerOption('--parse-workers', { min: 1 }),
    )
    .action(async (paths: string[], opts: { json?: boolean; dumpDate?: string; parseWorkers?: number }) => {
      if (opts.dumpDate !== undefined && !/^\d{8}$/.test(opts.dumpDate))
        throw new BadInputError(`must be YYYYMMDD, got "${opts.dumpDate}"`, '--dump-date')
      const c = ctx()
      const progress = discogsProgress(c)
      try {
        const summary = await withDatabase(c, (db) =>
          importDiscogsDumps(db, paths, {
            dumpDate: opts.dumpDate,
            parseWorkers: opts.parseWorkers,
            logger: c.logger,
            onProgress: progress.update,
          }),
        )
        progress.stop()
        if (opts.json) process.stdout.write(JSON.stringify(summary) + '\n')
        else process.stdout.write(formatSummary(summary))
      } finally {
        progress.stop()
      }
    })
}

/** A progress bar per file (records/s, ETA by bytes) on a terminal; one log line every few seconds otherwise. */
function discogsProgress(c: CliContext): { update: (p: DiscogsImportProgress) => void; stop: () => void } {
  const reporter = progressReporter<DiscogsImportProgress>({
    format: '{type} [{bar}] {percentage}% | {records} records | {rate} rec/s | ETA {eta_formatted}',
    tokens: (p) => ({ type: p.type, records: p.records, rate: Math.round(p.recordsPerSecond) }),
    log: (bytes, totalBytes, p) => {
      const eta = bytes > 0 ? (p.seconds * (totalBytes - bytes)) / bytes : null
      c.logger.info(
        {
          file: p.file,
          type: p.type,
          records: p.records,
          recordsPerSecond: Math.round(p.recordsPerSecond),
          percent: Math.round((100 * bytes) / Math.max(1, totalBytes)),
          etaSeconds: eta === null ? null : Math.round(eta),
        },
        'importing',
      )
    },
  })
  let file = ''
  return {
    update(p) {
      if (p.file !== file) {
        file = p.file
        reporter.restart()
      }
      reporter.update(p.bytes, p.totalBytes, p)
    },
    stop: reporter.stop,
  }
}

export function formatSummary(s: DiscogsImportSummary): string {
  const lines: string[] = []
  lines.push(
    `imported ${s.records} records in ${s.elapsedSeconds.toFixed(1)} s ` +
      `(${Math.round(s.records / Math.max(0.001, s.elapsedSeconds))} records/s)`,
  )
  for (const [type, t] of Object.entries(s.types))
    lines.push(
      `  ${type.padEnd(9)} ${String(t.records).padStart(9)} records: ${t.inserted} new, ${t.updated} updated, ` +
        `${t.unchanged} unchanged, ${t.missing} newly missing`,
    )
  const rows = Object.entries(s.rows)
  if (rows.length) {
    lines.push('rows written:')
    for (const [table, n] of rows) lines.push(`  ${table.padEnd(20)} ${n}`)
  }
  lines.push(`skipped: ${s.skipped.noId} records without id, ${s.skipped.rows} child rows over the limit`)
  const unknown = Object.entries(s.unknownElements).sort((a, b) => b[1] - a[1])
  lines.push(`unknown elements: ${s.unknownTotal}${unknown.length ? '' : ' (none)'}`)
  for (const [p, n] of unknown.slice(0, 20)) lines.push(`  ${p} × ${n}`)
  return lines.join('\n') + '\n'
}
