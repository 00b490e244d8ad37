import fs from 'node:fs'
import path from 'node:path'
import type { AddressInfo } from 'node:net'
import type { PGlite } from '@electric-sql/pglite'
import type { PGLiteSocketServer } from '@electric-sql/pglite-socket'
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
    // Loaded here, not with the module: PGlite costs ~45 MB of memory that a configured server never needs.
    const [{ PGlite }, { pg_trgm }, { vector }, { PGLiteSocketServer }] = await Promise.all([
      import('@electric-sql/pglite'),
      import('@electric-sql/pglite/contrib/pg_trgm'),
      import('@electric-sql/pglite-pgvector'),
      import('@electric-sql/pglite-socket'),
    ])
    const db = await PGlite.create(dir, { extensions: { vector, pg_trgm } })
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections })
    keepExtendedQueriesTogether(server, db)
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
    throw new DatabaseSetupError(
      `could not open the embedded database in ${dir}: ${(err as Error).message}`,
      {
        cause: err,
      },
    )
  }
}

interface QueuedMessage {
  handlerId: number
  message: Uint8Array
  resolve(bytes: number): void
  reject(err: unknown): void
  onData(data: Uint8Array): void
}

interface QueryQueue {
  queue: QueuedMessage[]
  processing: boolean
  lastHandlerId: number | null
  processQueue(): Promise<void>
  clearQueueForHandler(handlerId: number): void
}

/** Protocol messages after which another connection may take its turn: Sync, a simple Query, Terminate. */
const TURN_ENDS = new Set([0x53, 0x51, 0x58])

/**
 * pglite-socket (0.2.17) funnels every connection into one PGlite session and takes their messages in
 * turn one by one, keeping only explicit transactions together. An extended-protocol query (Parse, Bind,
 * Describe, Execute, Sync: what `pg` sends for every parameterised query) from one connection can then be
 * interleaved with another's, so the second's Parse replaces the first's unnamed statement ("bind message
 * supplies 3 parameters, but prepared statement "" requires 2") under concurrent requests. This replaces
 * its queue's scheduler with one that also keeps a connection's turn until its Sync. Checked by
 * test/integration/database.test.ts (concurrent parameterised queries on the embedded database).
 */
function keepExtendedQueriesTogether(server: PGLiteSocketServer, db: PGlite): void {
  const q = (server as unknown as { queryQueue: QueryQueue }).queryQueue
  if (!q || !Array.isArray(q.queue) || typeof q.processQueue !== 'function') {
    throw new DatabaseSetupError(
      'pglite-socket changed its internals: the embedded database cannot guarantee whole queries',
    )
  }
  let midQuery = false
  q.processQueue = async function (this: QueryQueue) {
    if (this.processing || this.queue.length === 0) return
    this.processing = true
    try {
      while (this.queue.length > 0) {
        let item: QueuedMessage | undefined
        if ((midQuery || db.isInTransaction()) && this.lastHandlerId !== null) {
          const i = this.queue.findIndex((m) => m.handlerId === this.lastHandlerId)
          if (i === -1) break // the rest of this connection's query has not arrived yet: wait for it
          item = this.queue.splice(i, 1)[0]
        } else {
          item = this.queue.shift()!
        }
        let bytes = 0
        try {
          await db.runExclusive(() =>
            db.execProtocolRawStream(item.message, {
              onRawData: (data: Uint8Array) => {
                bytes += data.length
                item.onData(data)
              },
            }),
          )
        } catch (err) {
          midQuery = false
          item.reject(err)
          continue
        }
        this.lastHandlerId = item.handlerId
        midQuery = !TURN_ENDS.has(item.message[0]) && item.message.length > 4 && item.message[0] !== 0
        item.resolve(bytes)
      }
    } finally {
      this.processing = false
    }
  }
  const clear = q.clearQueueForHandler.bind(q)
  q.clearQueueForHandler = (handlerId: number) => {
    clear(handlerId)
    if (handlerId === q.lastHandlerId) {
      midQuery = false // a connection that left mid-query must not hold the others back
      void q.processQueue()
    }
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
