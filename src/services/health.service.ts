import type { Database, DatabaseKind } from '../db/database.ts'
import { DatabaseStatusRepository } from '../db/repositories/database-status.repository.ts'

export interface Health {
  /** Whether to send this server traffic: its database answers and has every migration. */
  ready: boolean
  /** What a load balancer or orchestrator is told: whether, and in a word why not; never details. */
  report: { status: string; database: DatabaseKind; migrations?: 'pending' | 'current' }
  /** The driver's error when the database did not answer (for the server's log, not for the caller). */
  error?: unknown
}

/** Readiness: the database answers and its migrations are current (an API on an older schema answers wrongly). */
export class HealthService {
  private readonly status: DatabaseStatusRepository

  constructor(private readonly db: Database) {
    this.status = new DatabaseStatusRepository(db)
  }

  async check(): Promise<Health> {
    const database = this.db.kind
    try {
      await this.status.ping()
      const pending = (await this.status.pendingMigrations()).length > 0
      return {
        ready: !pending,
        report: {
          status: pending ? 'migrations pending' : 'ok',
          database,
          migrations: pending ? 'pending' : 'current',
        },
      }
    } catch (error) {
      return { ready: false, report: { status: 'database unreachable', database }, error }
    }
  }
}
