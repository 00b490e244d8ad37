import pg from 'pg'
import type { Database } from './database.ts'

/** The channel JobRepository notifies with a job's id whenever what people watch of it changes. */
export const JOB_CHANNEL = 'discograph_job'
/** The channel TrainingRunRepository notifies with a run's id when its status or curve changes. */
export const TRAINING_RUN_CHANNEL = 'discograph_training_run'

/**
 * `update` (an UPDATE … RETURNING id, …) as one statement that also NOTIFYs `channel` with the id of each
 * row it changed, so subscriptions read the row when it changes instead of every half second. The
 * notification leaves at commit, so a watcher never reads a row before its change is visible.
 */
export function notifying(channel: string, update: string): string {
  return `WITH changed AS (${update})
    SELECT changed.* FROM changed, LATERAL (SELECT pg_notify('${channel}', changed.id::text)) notified`
}

/** A wait for the next change of one row: registered before the row is read, so no change falls between. */
export interface ChangeWait {
  /** Resolves at the next change (or a reconnect, or `timeoutMs`, whichever comes first). */
  next(timeoutMs: number): Promise<void>
  close(): void
}

/** Tells watchers when rows change, so they read them again then, not on a timer. */
export interface ChangeFeed {
  /** How long a watcher waits at most before reading again anyway. */
  readonly fallbackMs: number
  watch(channel: string, id: string): ChangeWait
  close(): Promise<void>
}

class Wait implements ChangeWait {
  private wake: (() => void) | null = null
  private pending = false
  constructor(private readonly onClose: (w: Wait) => void) {}

  notify(): void {
    if (this.wake) this.wake()
    else this.pending = true
  }

  next(timeoutMs: number): Promise<void> {
    if (this.pending) {
      this.pending = false
      return Promise.resolve()
    }
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.wake = null
        resolve()
      }
      const timer = setTimeout(done, timeoutMs)
      this.wake = done
    })
  }

  close(): void {
    this.wake?.()
    this.onClose(this)
  }
}

/**
 * LISTEN on one connection of its own (outside the pool, which it would otherwise hold forever), shared by
 * every watcher of this process; rows' writers NOTIFY `channel` with the row's id. Connects at the first
 * watch. A lost connection wakes every watcher (they read again) and is opened again by the next watch;
 * meanwhile, and against a notification lost any other way, watchers still read every `fallbackMs`.
 */
export class ListenChangeFeed implements ChangeFeed {
  readonly fallbackMs = 5000
  private client: pg.Client | null = null
  private connecting: Promise<void> | null = null
  private closed = false
  private readonly waits = new Map<string, Set<Wait>>()
  /** Channels asked for, and those the current connection listens on. */
  private readonly channels = new Set<string>()
  private readonly listening = new Set<string>()

  constructor(private readonly options: pg.ClientConfig) {}

  /** Resolves once this process is listening on `channel` (tests wait for it; watchers need not). */
  async ready(channel: string): Promise<void> {
    this.channels.add(channel)
    await this.connect()
  }

  watch(channel: string, id: string): ChangeWait {
    const key = `${channel}\n${id}`
    const wait = new Wait((w) => {
      const set = this.waits.get(key)
      set?.delete(w)
      if (set?.size === 0) this.waits.delete(key)
    })
    let set = this.waits.get(key)
    if (!set) this.waits.set(key, (set = new Set()))
    set.add(wait)
    if (!this.channels.has(channel) || !this.client) {
      this.channels.add(channel)
      this.connect().catch(() => {}) // watchers fall back to reading every fallbackMs
    }
    return wait
  }

  private connect(): Promise<void> {
    if (this.closed) return Promise.resolve()
    if (this.connecting) return this.connecting.then(() => this.listenAll())
    if (this.client) return this.listenAll()
    this.connecting = (async () => {
      const client = new pg.Client(this.options)
      client.on('notification', (n) => {
        for (const w of this.waits.get(`${n.channel}\n${n.payload}`) ?? []) w.notify()
      })
      const lost = () => {
        if (this.client !== client) return
        this.client = null
        this.listening.clear()
        for (const set of this.waits.values()) for (const w of set) w.notify()
        client.end().catch(() => {})
      }
      client.on('error', lost)
      client.on('end', lost)
      await client.connect()
      this.client = client
    })().finally(() => (this.connecting = null))
    return this.connecting.then(() => this.listenAll())
  }

  private async listenAll(): Promise<void> {
    const client = this.client
    if (!client) return
    for (const channel of this.channels) {
      if (this.listening.has(channel)) continue
      if (!/^[a-z_]+$/.test(channel)) throw new Error(`not a channel name: ${channel}`)
      this.listening.add(channel)
      await client.query(`LISTEN ${channel}`)
      // A change written before LISTEN took effect sent its notification to no one: read again now.
      for (const [key, set] of this.waits) if (key.startsWith(`${channel}\n`)) for (const w of set) w.notify()
    }
  }

  async close(): Promise<void> {
    this.closed = true
    await this.connecting?.catch(() => {})
    const client = this.client
    this.client = null
    for (const set of this.waits.values()) for (const w of set) w.notify()
    await client?.end()
  }
}

/**
 * The embedded database's: no notifications (pglite-socket runs every connection in one PGlite session),
 * so watchers read again every half second, as they always did.
 */
export class PollingChangeFeed implements ChangeFeed {
  readonly fallbackMs = 500
  watch(): ChangeWait {
    return new Wait(() => {})
  }
  async close(): Promise<void> {}
}

export function changeFeedFor(db: Database): ChangeFeed {
  return db.kind === 'server'
    ? new ListenChangeFeed({ ...(db.pool.options as pg.ClientConfig) })
    : new PollingChangeFeed()
}
