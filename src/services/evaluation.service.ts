import type { Config } from '../config/config.ts'
import type { Database } from '../db/database.ts'
import { ProbeRepository, type ProbeModelRef, type ProbeSpace } from '../db/repositories/probe.repository.ts'
import { BadInputError } from '../errors.ts'
import type { Logger } from '../logger.ts'
import type { MlpOptions } from '../ml/probes/mlp.ts'
import { groupedBarChartSvg } from '../report/chart.ts'
import { writeReportFiles, type ReportFiles } from '../report/files.ts'
import { markdownFigureTable } from '../report/table.ts'
import { resolveModels, taskName, trainProbe, type ProbeMetrics } from './probe.service.ts'

export const DEFAULT_EVALUATION_TASKS = ['styles', 'genres', 'label', 'decade']

/** Rows in the paper's order: the baseline first, then the associations, imported models, the stack last. */
const ASSOCIATION_ORDER = ['track', 'release', 'artist', 'label', 'multi']

export interface EvaluateOptions {
  /** Model names or ids; `a+b` is the stack of a and b. Default: every model with vectors, plus the stack of the trained ones. */
  models?: readonly string[]
  /** Catalog tasks or label files (default: styles, genres, label, decade). */
  tasks?: readonly string[]
  space?: ProbeSpace
  seed?: number
  top?: number
  mlp?: Partial<Omit<MlpOptions, 'seed'>>
  backend?: string
  logger?: Logger
  signal?: AbortSignal
  onProbe?(done: number, total: number, what: string): void
}

export interface EvaluationRow {
  label: string
  kind: ProbeModelRef['kind'] | 'stack'
  models: string[]
  /** Per task; absent where the probe could not be trained. */
  results: Record<string, ProbeMetrics>
}

export interface EvaluationTask {
  name: string
  multiLabel: boolean
  classes: number
}

export interface EvaluationReport {
  space: ProbeSpace
  seed: number
  /** Tracks embedded by every compared model: each probe trains and tests on (splits of) the same tracks. */
  tracks: number
  tasks: EvaluationTask[]
  /** Tasks left out, and why (e.g. fewer than two classes in this catalog). */
  skippedTasks: { task: string; reason: string }[]
  rows: EvaluationRow[]
  markdown: string
}

/**
 * The paper's evaluation table for the models at hand: one probe per (model or stack, task), trained on
 * frozen vectors with the same seed and the same artist-disjoint split of the same tracks, scored on the
 * test split (macro ROC-AUC, macro PR-AUC, accuracy for single-label tasks).
 */
export async function evaluate(
  db: Pick<Database, 'pool'>,
  config: Config,
  options: EvaluateOptions = {},
): Promise<EvaluationReport> {
  const repo = new ProbeRepository(db.pool)
  const space = options.space ?? 'backbone'
  const seed = options.seed ?? 1
  const rows = await selectRows(repo, options.models, space, options.logger)
  const allIds = [...new Set(rows.flatMap((r) => r.models.map((m) => m.id)))]
  const tracks = await repo.tracksEmbeddedByAll(allIds, space)
  if (tracks.length === 0)
    throw new BadInputError(
      `no track has ${space} vectors of every one of ${rows.map((r) => r.label).join(', ')}`,
      '--models',
    )
  const taskRefs = options.tasks?.length ? options.tasks : DEFAULT_EVALUATION_TASKS
  const tasks: EvaluationTask[] = []
  const skippedTasks: EvaluationReport['skippedTasks'] = []
  const results: EvaluationRow[] = rows.map((r) => ({
    label: r.label,
    kind: r.kind,
    models: r.models.map((m) => m.name),
    results: {},
  }))
  const total = rows.length * taskRefs.length
  let done = 0
  for (const task of taskRefs) {
    const name = taskName(task)
    for (const [i, row] of rows.entries()) {
      if (options.signal?.aborted) throw options.signal.reason
      options.onProbe?.(done, total, `${name} @ ${row.label}`)
      try {
        const trained = await trainProbe(db, config, {
          models: row.models.map((m) => m.name),
          task,
          space,
          seed,
          top: options.top,
          mlp: options.mlp,
          tracks,
          backend: options.backend,
          logger: options.logger,
          signal: options.signal,
        })
        results[i].results[name] = trained.metrics
        if (!tasks.some((t) => t.name === name))
          tasks.push({ name, multiLabel: trained.probe.multiLabel, classes: trained.probe.classes.length })
      } catch (err) {
        // every row sees the same tracks, so a task the catalog cannot support fails on the first row
        if (!(err instanceof BadInputError) || i > 0) throw err
        skippedTasks.push({ task: name, reason: err.message })
        options.logger?.warn({ task: name, reason: err.message }, 'task skipped')
        done += rows.length
        break
      }
      done++
    }
  }
  options.onProbe?.(done, total, 'done')
  const report = { space, seed, tracks: tracks.length, tasks, skippedTasks, rows: results }
  return { ...report, markdown: evaluationMarkdown(report) }
}

/** Columns of the table: ROC-AUC and PR-AUC per task, and accuracy for single-label tasks. */
export function evaluationColumns(
  tasks: readonly EvaluationTask[],
): { task: string; metric: 'rocAuc' | 'prAuc' | 'accuracy'; header: string }[] {
  return tasks.flatMap((t) => [
    { task: t.name, metric: 'rocAuc' as const, header: `${t.name} ROC` },
    { task: t.name, metric: 'prAuc' as const, header: `${t.name} PR` },
    ...(t.multiLabel ? [] : [{ task: t.name, metric: 'accuracy' as const, header: `${t.name} Acc.` }]),
  ])
}

export function evaluationMarkdown(report: Omit<EvaluationReport, 'markdown'>): string {
  const columns = evaluationColumns(report.tasks)
  const table = markdownFigureTable({
    corner: 'model',
    columns: columns.map((c) => c.header),
    rows: report.rows.map((r) => ({
      label: r.label,
      values: columns.map((c) => r.results[c.task]?.[c.metric]),
    })),
  })
  const notes = [
    `Macro ROC-AUC, macro PR-AUC (average precision) and accuracy (single-label tasks), in %, on the test split of the ${report.tracks} tracks ` +
      `embedded by every model (${report.space} vectors; split by artist, stratified by class, seed ${report.seed}; the same split for every row). ` +
      `Per task: ${report.tasks.map((t) => `${t.name} ${t.classes} classes${t.multiLabel ? ' (multi-label)' : ''}, ${testTracks(report, t.name)} test tracks`).join('; ')}.`,
    ...report.rows
      .filter((r) => r.kind === 'stack' || r.label !== r.models[0])
      .map((r) => `${r.label}: ${r.models.join(' + ')}.`),
    ...report.skippedTasks.map((s) => `Skipped ${s.task}: ${s.reason}`),
  ]
  return `${table}\n${notes.map((n) => `- ${n}`).join('\n')}\n`
}

function testTracks(report: Omit<EvaluationReport, 'markdown'>, task: string): number | string {
  return report.rows.find((r) => r.results[task])?.results[task].testTracks ?? '?'
}

export function evaluationSvg(report: Omit<EvaluationReport, 'markdown'>): string {
  const columns = evaluationColumns(report.tasks)
  return groupedBarChartSvg({
    title: `Probe evaluation (${report.space} vectors, ${report.tracks} tracks)`,
    groups: columns.map((c) => c.header),
    series: report.rows.map((r) => ({
      name: r.label,
      values: columns.map((c) => r.results[c.task]?.[c.metric]),
    })),
  })
}

/** Writes evaluation.md, evaluation.svg and evaluation.json into `dir`; returns their paths. */
export function writeEvaluation(report: EvaluationReport, dir: string): ReportFiles {
  return writeReportFiles(dir, 'evaluation', {
    markdown: report.markdown,
    svg: evaluationSvg(report),
    json: report,
  })
}

interface SelectedRow {
  label: string
  kind: EvaluationRow['kind']
  models: ProbeModelRef[]
}

async function selectRows(
  repo: ProbeRepository,
  refs: readonly string[] | undefined,
  space: ProbeSpace,
  logger?: Logger,
): Promise<SelectedRow[]> {
  let rows: SelectedRow[]
  if (refs?.length) {
    rows = []
    for (const ref of refs) {
      const models = await resolveModels(
        repo,
        ref.split('+').map((s) => s.trim()),
        space,
      )
      rows.push({ label: '', kind: models.length > 1 ? 'stack' : models[0].kind, models })
    }
  } else {
    const all = await repo.models()
    const usable = all.filter((m) => m.embedded[space])
    const unusable = all.filter((m) => !m.embedded[space])
    if (unusable.length)
      logger?.warn(
        { models: unusable.map((m) => m.name), space },
        `models without ${space} vectors are left out`,
      )
    if (usable.length === 0)
      throw new BadInputError(
        `no model has ${space} vectors yet; run \`discograph embed --model <model>\` first`,
        '--models',
      )
    usable.sort((a, b) => rank(a) - rank(b) || a.id - b.id)
    rows = usable.map((m) => ({ label: '', kind: m.kind, models: [m] }))
    const trained = usable.filter((m) => m.kind === 'trained')
    if (trained.length > 1) rows.push({ label: '', kind: 'stack', models: trained })
  }
  const base = (r: SelectedRow) =>
    r.kind === 'stack'
      ? 'stack'
      : r.kind === 'random'
        ? 'random weights'
        : r.kind === 'trained' && r.models[0].association
          ? r.models[0].association === 'multi'
            ? 'multi-task'
            : `${r.models[0].association} associations`
          : r.models[0].name
  // the paper's row names where they are unambiguous, the model names where two rows would share one
  for (const r of rows) {
    const b = base(r)
    const shared = rows.filter((o) => base(o) === b).length > 1
    r.label = !shared ? b : `${b} (${r.models.map((m) => m.name).join(' + ')})`
  }
  const labels = rows.map((r) => r.label)
  const dup = labels.find((l, i) => labels.indexOf(l) !== i)
  if (dup) throw new BadInputError(`"${dup}" is listed twice`, '--models')
  return rows
}

function rank(m: ProbeModelRef): number {
  if (m.kind === 'random') return 0
  if (m.kind === 'trained') {
    const i = ASSOCIATION_ORDER.indexOf(m.association ?? '')
    return 1 + (i < 0 ? ASSOCIATION_ORDER.length : i)
  }
  return 10
}
