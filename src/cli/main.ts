import 'reflect-metadata'
import { Command, CommanderError } from 'commander'
import { ConfigError } from '../config/config.ts'
import { DiscographError } from '../errors.ts'
import { createCliContext, type CliContext } from './context.ts'
import { registerDbCommands } from './commands/db.ts'
import { registerDemoCommand } from './commands/demo.ts'
import { registerEmbedCommand } from './commands/embed.ts'
import { registerEvaluateCommand } from './commands/evaluate.ts'
import { registerIngestAudioCommand } from './commands/ingest-audio.ts'
import { registerIngestDiscogsCommand } from './commands/ingest-discogs.ts'
import { registerJobCommands } from './commands/jobs.ts'
import { registerKeyCommands } from './commands/keys.ts'
import { registerMelCommand } from './commands/mel.ts'
import { registerModelCommands } from './commands/models.ts'
import { registerProbeCommands } from './commands/probe.ts'
import { registerServeCommand } from './commands/serve.ts'
import { registerSynthCommand } from './commands/synth.ts'
import { registerTrainCommand } from './commands/train.ts'

const program = new Command()
  .name('discograph')
  .description(
    'Discogs catalog + learned audio embeddings over GraphQL.\n' +
      'Configuration: DATABASE_URL (unset = embedded PGlite under DATA_DIR), DATA_DIR (default ./data), LOG_LEVEL, PORT, HOST, READ_ACCESS.',
  )
  .showHelpAfterError()
  .exitOverride()

// Parsed lazily so that `--help` works even with a broken environment.
let context: CliContext | undefined
const ctx = () => (context ??= createCliContext())

registerDbCommands(program, ctx)
registerDemoCommand(program, ctx)
registerEmbedCommand(program, ctx)
registerEvaluateCommand(program, ctx)
registerIngestDiscogsCommand(program, ctx)
registerIngestAudioCommand(program, ctx)
registerJobCommands(program, ctx)
registerKeyCommands(program, ctx)
registerMelCommand(program)
registerModelCommands(program, ctx)
registerProbeCommands(program, ctx)
registerServeCommand(program, ctx)
registerSynthCommand(program, ctx)
registerTrainCommand(program, ctx)

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
