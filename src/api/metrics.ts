import type pg from 'pg'
import client from 'prom-client'

/** Prometheus metrics of one API server: its own registry, so several servers in one process (tests) don't clash. */
export function createMetrics(pool: pg.Pool) {
  const registry = new client.Registry()
  client.collectDefaultMetrics({ register: registry, prefix: 'discograph_' })
  const requests = new client.Counter({
    name: 'discograph_http_requests_total',
    help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  })
  const latency = new client.Histogram({
    name: 'discograph_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  })
  const operations = new client.Counter({
    name: 'discograph_graphql_operations_total',
    help: 'GraphQL operations by name, type and outcome',
    labelNames: ['operation', 'type', 'outcome'] as const,
    registers: [registry],
  })
  const statements = new client.Histogram({
    name: 'discograph_graphql_sql_statements',
    help: 'SQL statements per GraphQL operation',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [registry],
  })
  const mapComputations = new client.Counter({
    name: 'discograph_embedding_map_computations_total',
    help: 'Embedding maps computed (UMAP on a worker thread), by space',
    labelNames: ['space'] as const,
    registers: [registry],
  })
  new client.Gauge({
    name: 'discograph_db_pool_connections',
    help: 'Database pool connections by state',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      this.set({ state: 'total' }, pool.totalCount)
      this.set({ state: 'idle' }, pool.idleCount)
      this.set({ state: 'waiting' }, pool.waitingCount)
    },
  })
  return { registry, requests, latency, operations, statements, mapComputations }
}

export type Metrics = ReturnType<typeof createMetrics>
