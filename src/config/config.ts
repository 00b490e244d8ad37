import path from 'node:path'
import { z } from 'zod'

/**
 * The one place that reads process.env. Everything else receives a Config.
 * Defaults make the embedded path work with nothing set.
 */
const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .url()
    .refine((u) => /^postgres(ql)?:\/\//.test(u), 'must be a postgres:// or postgresql:// URL')
    .optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  READ_ACCESS: z.enum(['public', 'key']).default('public'),
  // A scraper's own secret: Prometheus sends it as `Authorization: Bearer` (its `authorization.credentials`).
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  // Signs the short-lived audio URLs; several servers behind one address must share it.
  URL_SIGNING_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  HOST: z.string().min(1).default('127.0.0.1'),
  GRAPHQL_INTROSPECTION: z.enum(['true', 'false']).default('true'),
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(2).max(100).default(15),
  GRAPHQL_MAX_COST: z.coerce.number().int().min(10).default(100_000),
  GRAPHQL_MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
})

export interface Config {
  /** Set when a real PostgreSQL server is configured; absent means the embedded PGlite database. */
  databaseUrl?: string
  dataDir: string
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL']
  port: number
  dbPoolMax: number
  /** Whether reading the API needs no key (`READ_ACCESS=public`, the default) or a reader/admin key. */
  publicRead: boolean
  /** Bearer token that opens `/metrics` (so does an admin key); unset: /metrics is open when reading is public, else admin-only. */
  metricsToken?: string
  /** Secret of the signed audio URLs; unset: a random one per process (URLs then work on this server only). */
  urlSigningSecret?: string
  /** Interface `discograph serve` listens on (0.0.0.0 in containers). */
  host: string
  graphql: { introspection: boolean; maxDepth: number; maxCost: number; maxBodyBytes: number }
}

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid configuration:\n  ${issues.join('\n  ')}`)
    this.name = 'ConfigError'
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')))
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`))
  }
  const e = parsed.data
  return {
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(e.DATA_DIR),
    logLevel: e.LOG_LEVEL,
    port: e.PORT,
    dbPoolMax: e.DB_POOL_MAX,
    publicRead: e.READ_ACCESS === 'public',
    metricsToken: e.METRICS_TOKEN,
    urlSigningSecret: e.URL_SIGNING_SECRET,
    host: e.HOST,
    graphql: {
      introspection: e.GRAPHQL_INTROSPECTION === 'true',
      maxDepth: e.GRAPHQL_MAX_DEPTH,
      maxCost: e.GRAPHQL_MAX_COST,
      maxBodyBytes: e.GRAPHQL_MAX_BODY_BYTES,
    },
  }
}
