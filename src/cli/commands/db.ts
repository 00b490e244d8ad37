import type { Command } from 'commander'
import { migrate, openDatabase } from '../../db/database.ts'
import type { CliContext } from '../context.ts'

export function registerDbCommands(program: Command, ctx: () => CliContext): void {
  const db = program.command('db').description('database administration')
  db.command('migrate')
    .description('apply pending schema migrations (safe to re-run)')
    .action(async () => {
      const { config } = ctx()
      const database = await openDatabase(config)
      try {
        const applied = await migrate(database)
        const where =
          database.kind === 'embedded' ? `embedded database in ${config.dataDir}` : 'PostgreSQL server'
        console.log(
          applied.length ? `applied ${applied.join(', ')} to the ${where}` : `the ${where} is up to date`,
        )
      } finally {
        await database.close()
      }
    })
}
