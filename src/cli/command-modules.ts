import type { Command } from 'commander'
import type { CliContext } from './context.ts'

export type Register = (program: Command, ctx: () => CliContext) => void

/**
 * The modules that register each top-level command, loaded on demand: together they pull in TensorFlow.js,
 * Apollo, pg-boss and the rest (the CLI held 255 MB before doing anything); `ingest discogs` needs a
 * third of that. `--help` and unknown names read the command index (command-index.ts) instead, or load
 * them all, in this order, where there is none (running from source).
 */
export const COMMANDS: Record<string, (() => Promise<Register>)[]> = {
  db: [async () => (await import('./commands/db.ts')).registerDbCommands],
  demo: [async () => (await import('./commands/demo.ts')).registerDemoCommand],
  embed: [async () => (await import('./commands/embed.ts')).registerEmbedCommand],
  evaluate: [async () => (await import('./commands/evaluate.ts')).registerEvaluateCommand],
  ingest: [
    async () => (await import('./commands/ingest-discogs.ts')).registerIngestDiscogsCommand,
    async () => (await import('./commands/ingest-audio.ts')).registerIngestAudioCommand,
  ],
  jobs: [async () => (await import('./commands/jobs.ts')).registerJobCommands],
  keys: [async () => (await import('./commands/keys.ts')).registerKeyCommands],
  mel: [async () => (await import('./commands/mel.ts')).registerMelCommand],
  models: [async () => (await import('./commands/models.ts')).registerModelCommands],
  probe: [async () => (await import('./commands/probe.ts')).registerProbeCommands],
  serve: [async () => (await import('./commands/serve.ts')).registerServeCommand],
  synth: [async () => (await import('./commands/synth.ts')).registerSynthCommand],
  train: [async () => (await import('./commands/train.ts')).registerTrainCommand],
}
COMMANDS.worker = COMMANDS.jobs // registerJobCommands adds `worker` too

/** Every command's loaders, each module once, in the table's order. */
export const ALL_COMMANDS = [...new Set(Object.values(COMMANDS))].flat()

/** Loads the given command modules and registers their commands on `program`. */
export async function registerCommands(
  program: Command,
  loaders: (() => Promise<Register>)[],
  ctx: () => CliContext,
): Promise<void> {
  for (const load of loaders) (await load())(program, ctx)
}
