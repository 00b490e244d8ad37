import { pendingMigrations, type Database } from '../database.ts'

/** The database's own state, as a health check asks it: does it answer, and is its schema current. */
export class DatabaseStatusRepository {
  constructor(private readonly db: Database) {}

  /** Resolves when the pool's database answers a statement; rejects with the driver's error when not. */
  async ping(): Promise<void> {
    await this.db.pool.query('SELECT 1')
  }

  /** Names of the migrations not yet run (TypeORM's record of them). */
  pendingMigrations(): Promise<string[]> {
    return pendingMigrations(this.db)
  }
}
