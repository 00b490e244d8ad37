import 'reflect-metadata'
import { Command, CommanderError } from 'commander'
import { ConfigError } from '../config/config.ts'
import { DiscographError } from '../errors.ts'
import { createCliContext, type CliContext } from './context.ts'

type Register = (program: Command, ctx: () => CliContext) => void

/**
 * The modules that register each top-level command, loaded on demand: together they pull in TensorFlow.js,
 * Apollo, pg-boss and the rest (the CLI held 255 MB before doing anything); `ingest discogs` needs a
 * third of that. `--help`, `help` and unknown names load them all, in this order.
 */
const COMMANDS: Record<string, (() => Promise<Register>)[]> = {
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

const program = new Command()
  .name('discograph')
  .description(
    'Discogs catalog + learned audio embeddings over GraphQL.\n' +
      'Configuration: DATABASE_URL (unset = embedded PGlite under DATA_DIR), DATA_DIR (default ./data), LOG_LEVEL, PORT, HOST, READ_ACCESS, METRICS_TOKEN, URL_SIGNING_SECRET (README: Configuration).',
  )
  .showHelpAfterError()
  .exitOverride()

// Parsed lazily so that `--help` works even with a broken environment.
let context: CliContext | undefined
const ctx = () => (context ??= createCliContext())

const named = process.argv.slice(2).find((a) => !a.startsWith('-'))
const wanted = named !== undefined && named in COMMANDS ? COMMANDS[named] : [...new Set(Object.values(COMMANDS))].flat()
for (const load of wanted) (await load())(program, ctx)

try {
  await program.parseAsync(process.argv)
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode
  } else if (err instanceof ConfigError || err instanceof DiscographError) {
    console.error(`discograph: ${err.message}`)
    process.exitCode = 1
  } else {
    console.error(err)
    process.exitCode = 1
  }
}
