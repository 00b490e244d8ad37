import { Help, type Command } from 'commander'

/**
 * What `discograph --help` shows of each top-level command (its term, e.g. `jobs`, `serve [options]`, and
 * its summary), written at build time (scripts/build.mjs) to `command-index.json` beside the compiled CLI.
 * The commands' modules load TensorFlow.js, TypeORM, Apollo and pg-boss; listing the commands from the index
 * instead keeps `--help` at the cost of Node and commander (docs/BENCHMARKS.md). The same idea as oclif's
 * manifest. From source (tsx, tests) there is no index and every module loads.
 */
export interface IndexedCommand {
  name: string
  term: string
  description: string
}

export const COMMAND_INDEX_FILE = 'command-index.json'

/** The top-level commands of a fully registered program, as its help lists them. */
export function indexCommands(program: Command): IndexedCommand[] {
  const help = new Help()
  return program.commands.map((cmd) => ({
    name: cmd.name(),
    term: help.subcommandTerm(cmd),
    description: help.subcommandDescription(cmd),
  }))
}

/**
 * Registers a placeholder per indexed command, enough for the program's help and for its unknown-command
 * error (with its "did you mean"). Only used when no command is named: a named command loads its module.
 */
export function registerIndexedCommands(program: Command, index: IndexedCommand[]): void {
  const terms = new Map(index.map((c) => [c.name, c.term]))
  for (const c of index) program.command(c.name).description(c.description)
  const help = new Help()
  program.configureHelp({ subcommandTerm: (cmd) => terms.get(cmd.name()) ?? help.subcommandTerm(cmd) })
}
