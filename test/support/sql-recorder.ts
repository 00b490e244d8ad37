import type pg from 'pg'

/**
 * Records the SQL text of every statement a pool's connections send while recording is on: each
 * connection's `query` is wrapped the first time the pool hands it out (pg-pool emits `acquire`
 * synchronously, before the caller gets the connection, and `pool.query` goes through the same checkout).
 * Nothing between the code and the server is faked: the statements run as they would, and the record is of
 * what was sent, whichever repository or service sent it.
 */
export interface SqlRecorder {
  /** Runs `fn` and returns its result with the SQL texts sent meanwhile, in the order they were sent. */
  record<T>(fn: () => Promise<T>): Promise<{ result: T; statements: string[] }>
  /** Stops wrapping new connections (wrapped ones record nothing once no recording runs). */
  detach(): void
}

export function recordPoolSql(pool: pg.Pool): SqlRecorder {
  const wrapped = new WeakSet<pg.PoolClient>()
  let sink: string[] | null = null
  const wrap = (client: pg.PoolClient) => {
    if (wrapped.has(client)) return
    wrapped.add(client)
    const query = client.query
    // pg's query takes a text or a config object ({ text, values, name }, or a COPY stream with `text`),
    // then values and a callback; every form passes through unchanged.
    client.query = function (this: pg.PoolClient, ...args: unknown[]) {
      const first = args[0] as string | { text?: string } | undefined
      const text = typeof first === 'string' ? first : first?.text
      if (sink && text !== undefined) sink.push(text)
      return (query as (...a: unknown[]) => unknown).apply(this, args)
    } as typeof client.query
  }
  pool.on('acquire', wrap)
  return {
    async record(fn) {
      if (sink) throw new Error('recordPoolSql: one recording at a time')
      const statements: string[] = []
      sink = statements
      try {
        return { result: await fn(), statements }
      } finally {
        sink = null
      }
    },
    detach() {
      pool.off('acquire', wrap)
    },
  }
}
