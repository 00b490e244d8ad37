import fs from 'node:fs'
import path from 'node:path'
import type { AddressInfo } from 'node:net'
import { PGlite } from '@electric-sql/pglite'
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm'
import { vector } from '@electric-sql/pglite-pgvector'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'
import { DatabaseSetupError } from '../errors.ts'

export interface EmbeddedServer {
  url: string
  dir: string
  stop(): Promise<void>
}

/**
 * Starts PGlite (with pgvector and pg_trgm) persisted under `dataDir/pglite` and serves it on a loopback
 * port through pglite-socket, so the app talks to it with the same `pg`/TypeORM code as to a real server.
 * PGlite is single-process: a lock file stops a second process from opening (and corrupting) the same
 * directory, with a message saying who holds it.
 */
export async function startEmbeddedPostgres(dataDir: string, maxConnections = 8): Promise<EmbeddedServer> {
  const dir = path.join(dataDir, 'pglite')
  fs.mkdirSync(dir, { recursive: true })
  const releaseLock = acquireLock(path.join(dataDir, 'pglite.lock'), dir)
  try {
    const db = await PGlite.create(dir, { extensions: { vector, pg_trgm } })
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections })
    await server.start()
    const { port } = (server as unknown as { server: { address(): AddressInfo } }).server.address()
    return {
      url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
      dir,
      async stop() {
        await server.stop()
        await db.close()
        releaseLock()
      },
    }
  } catch (err) {
    releaseLock()
    throw new DatabaseSetupError(`could not open the embedded database in ${dir}: ${(err as Error).message}`, {
      cause: err,
    })
  }
}

function acquireLock(lockFile: string, dir: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' })
      return () => fs.rmSync(lockFile, { force: true })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const holder = Number(fs.readFileSync(lockFile, 'utf8'))
      if (holder && holder !== process.pid && isAlive(holder)) {
        throw new DatabaseSetupError(
          `the embedded database in ${dir} is in use by process ${holder}; stop it, or set DATABASE_URL to use a PostgreSQL server`,
        )
      }
      fs.rmSync(lockFile, { force: true }) // stale lock left by a crashed process
    }
  }
  throw new DatabaseSetupError(`could not lock ${lockFile}`)
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
