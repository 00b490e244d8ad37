import type { Command } from 'commander'
import { BadInputError } from '../../errors.ts'
import { AuthService } from '../../services/auth.service.ts'
import { withDatabase, type CliContext } from '../context.ts'

export function registerKeyCommands(program: Command, ctx: () => CliContext): void {
  const keys = program.command('keys').description('API keys for the GraphQL API (roles: reader, admin)')
  const service = (pool: import('pg').Pool) => new AuthService(pool, { publicRead: ctx().config.publicRead })

  keys
    .command('create')
    .description('create a key; it is printed once and only its hash is stored')
    .requiredOption('--role <role>', 'reader or admin')
    .option('--name <name>', 'what the key is for', 'unnamed')
    .option('--json', 'print as JSON')
    .action(async (opts: { role: string; name: string; json?: boolean }) => {
      if (opts.role !== 'reader' && opts.role !== 'admin')
        throw new BadInputError(`must be reader or admin, not ${opts.role}`, '--role')
      await withDatabase(ctx(), async (db) => {
        const { key, row } = await service(db.pool).createKey(opts.name, opts.role as 'reader' | 'admin')
        if (opts.json) console.log(JSON.stringify({ id: row.id, name: row.name, role: row.role, key }))
        else
          console.log(
            `${key}\n(id ${row.id}, ${row.role} key "${row.name}"; store it now: it cannot be shown again)`,
          )
      })
    })

  keys
    .command('list')
    .description('list keys (never the secrets)')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      await withDatabase(ctx(), async (db) => {
        const rows = await service(db.pool).listKeys()
        if (opts.json) return console.log(JSON.stringify(rows))
        for (const r of rows) {
          console.log(
            `${r.id}\t${r.role}\t${r.prefix}…\t${r.name}\t${r.revokedAt ? 'revoked' : r.lastUsedAt ? `last used ${r.lastUsedAt.toISOString()}` : 'never used'}`,
          )
        }
      })
    })

  keys
    .command('revoke <id>')
    .description('revoke a key by id')
    .action(async (id: string) => {
      await withDatabase(ctx(), async (db) => {
        if (!(await service(db.pool).revokeKey(Number(id))))
          throw new BadInputError(`no active key with id ${id}`, 'id')
        console.log(`revoked key ${id}`)
      })
    })
}
