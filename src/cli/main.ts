import 'reflect-metadata'
import fs from 'node:fs'
import { Command, CommanderError } from 'commander'
import { COMMAND_INDEX_FILE, registerIndexedCommands, type IndexedCommand } from './command-index.ts'
import { ALL_COMMANDS, COMMANDS, registerCommands } from './command-modules.ts'
import type { CliContext } from './context.ts'

const program = new Command()
  .name('discograph')
  .description(
    'Discogs catalog + learned audio embeddings over GraphQL.\n' +
      'Configuration: DATABASE_URL (unset = embedded PGlite under DATA_DIR), DATA_DIR (default ./data), LOG_LEVEL, PORT, HOST, READ_ACCESS, METRICS_TOKEN, URL_SIGNING_SECRET (README: Configuration).',
  )
  .showHelpAfterError()
  .exitOverride()

/** The command index the build wrote beside this file (command-index.ts), or undefined from source. */
function readCommandIndex(): IndexedCommand[] | undefined {
  try {
    return JSON.parse(
      fs.readFileSync(new URL(`./${COMMAND_INDEX_FILE}`, import.meta.url), 'utf8'),
    ) as IndexedCommand[]
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw e
  }
}

// `help <command>` is that command's help; otherwise the first word that is not an option names it.
const words = process.argv.slice(2).filter((a) => !a.startsWith('-'))
const named = words[0] === 'help' ? words[1] : words[0]
const loaders = named !== undefined && Object.hasOwn(COMMANDS, named) ? COMMANDS[named] : undefined
const index = loaders ? undefined : readCommandIndex()
if (index) {
  registerIndexedCommands(program, index)
} else {
  // Loaded only with the commands: it imports the database layer. The configuration is parsed lazily so
  // that `--help` works even with a broken environment.
  const { createCliContext } = await import('./context.ts')
  let context: CliContext | undefined
  const ctx = () => (context ??= createCliContext())
  await registerCommands(program, loaders ?? ALL_COMMANDS, ctx)
}

try {
  await program.parseAsync(process.argv)
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode
  } else {
    const [{ ConfigError }, { DiscographError }] = await Promise.all([
      import('../config/config.ts'),
      import('../errors.ts'),
    ])
    console.error(
      err instanceof ConfigError || err instanceof DiscographError ? `discograph: ${err.message}` : err,
    )
    process.exitCode = 1
  }
}
