import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { ApolloServer, HeaderMap, type ApolloServerPlugin } from '@apollo/server'
import { unwrapResolverError } from '@apollo/server/errors'
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled'
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer'
import type { GraphQLFormattedError } from 'graphql'
import { useServer } from 'graphql-ws/use/ws'
import { WebSocketServer } from 'ws'
import type { Config } from '../config/config.ts'
import { pendingMigrations, type Database } from '../db/database.ts'
import { TrainingRunRepository } from '../db/repositories/training-run.repository.ts'
import { CountingQueryable } from '../db/sql.ts'
import { DiscographError } from '../errors.ts'
import type { JobQueue } from '../jobs/queue.ts'
import type { Logger } from '../logger.ts'
import type { CatalogContext } from '../resolvers/catalog.ts'
import type { JobsContext } from '../resolvers/jobs.ts'
import type { SimilarityContext } from '../resolvers/similarity.ts'
import { EmbeddingMapService } from '../services/embedding-map.service.ts'
import { ModelService } from '../services/model.service.ts'
import { SimilarityService, type SimilarityOptions } from '../services/similarity.service.ts'
import { AuthService, UnauthenticatedError, type Viewer } from '../services/auth.service.ts'
import { CatalogReadRepository } from '../db/repositories/catalog-read.repository.ts'
import { graphiqlDefaultQuery } from './example-queries.ts'
import { graphiqlAssets, graphiqlPage } from './graphiql.ts'
import { jitGateway } from './jit-executor.ts'
import { limitError, measureOperation } from './limits.ts'
import { createLoaders } from './loaders.ts'
import { createMetrics, type Metrics } from './metrics.ts'
import { buildSchema } from './schema.ts'
import { serveWebAsset } from './web-assets.ts'

export interface ApiContext extends CatalogContext, JobsContext, SimilarityContext {
  sql: CountingQueryable
  db: Database
  config: Config
}

export interface ApiDeps {
  db: Database
  config: Config
  logger: Logger
  queue: JobQueue
  /** HNSW scan settings of similarity queries (benchmarks vary ef_search). */
  similarityOptions?: SimilarityOptions
  /** How operations execute: compiled by graphql-jit (default), or graphql-js (benchmarks compare the two). */
  executor?: 'jit' | 'graphql-js'
}

export interface ApiServer {
  url: string
  port: number
  close(): Promise<void>
}

const GRAPHQL_PATH = '/graphql'

class BodyTooLargeError extends Error {}

function readBody(req: http.IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) {
        reject(new BodyTooLargeError())
        req.resume()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers })
  res.end(JSON.stringify(body))
}

function errorBody(message: string, code: string) {
  return { errors: [{ message, extensions: { code } }] }
}

/** Maps our errors to `extensions.code` in one place; internal errors are logged and never leak details. */
function formatErrorWith(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error)
    if (original instanceof DiscographError) {
      return { message: original.message, locations: formatted.locations, path: formatted.path, extensions: { code: original.code } }
    }
    if (formatted.extensions?.code === 'INTERNAL_SERVER_ERROR') {
      logger.error({ err: original, path: formatted.path }, 'resolver failed')
      return { message: 'Internal server error', locations: formatted.locations, path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } }
    }
    return formatted
  }
}

/** Per-operation limits, metrics and the SQL statement count (Server-Timing, x-sql-statements). */
function operationPlugin(config: Config, metrics: Metrics, logger: Logger): ApolloServerPlugin<ApiContext> {
  return {
    async requestDidStart() {
      const started = performance.now()
      return {
        async didResolveOperation({ document, operation, request, schema }) {
          if (!operation) return
          const error = limitError(measureOperation(schema, document, operation, request.variables ?? {}), config.graphql)
          if (error) throw error
        },
        async willSendResponse({ contextValue, operationName, operation, errors, response }) {
          const { statements, millis } = contextValue.sql
          metrics.operations.inc({ operation: operationName ?? 'anonymous', type: operation?.operation ?? 'unknown', outcome: errors?.length ? 'error' : 'ok' })
          metrics.statements.observe(statements)
          response.http.headers.set('x-sql-statements', String(statements))
          response.http.headers.set('server-timing', `db;desc="${statements} SQL statements";dur=${millis.toFixed(1)}`)
          logger.info(
            { operation: operationName, type: operation?.operation, ms: Math.round(performance.now() - started), sqlStatements: statements, errors: errors?.length ?? 0 },
            'graphql',
          )
        },
      }
    },
  }
}

/**
 * The API over HTTP: GraphQL (Apollo Server through its HTTP-request API, so no web framework is needed),
 * GraphQL subscriptions over WebSocket (graphql-ws), an offline GraphiQL, /healthz, /metrics and the web UI.
 */
export async function startApiServer(deps: ApiDeps, listen: { port: number; host: string }): Promise<ApiServer> {
  const { db, config, logger, queue } = deps
  const auth = new AuthService(db.pool, { publicRead: config.publicRead })
  const runs = new TrainingRunRepository(db.pool)
  const metrics = createMetrics(db.pool)
  const similarity = new SimilarityService(db, deps.similarityOptions)
  const models = new ModelService(db, config)
  const maps = new EmbeddingMapService(db.pool)
  const schema = buildSchema()
  const httpServer = http.createServer()

  const contextFor = (viewer: Viewer): ApiContext => {
    const sql = new CountingQueryable(db.pool, db.kind === 'server')
    return { viewer, auth, jobs: queue, runs, sql, loaders: createLoaders(sql), db, config, similarity, models, maps }
  }

  const wsServer = new WebSocketServer({ server: httpServer, path: GRAPHQL_PATH })
  const wsCleanup = useServer(
    {
      schema,
      context: async (ctx) => {
        const header = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization
        return contextFor(await auth.viewerFor(typeof header === 'string' ? header : undefined))
      },
    },
    wsServer,
  )

  const apollo = new ApolloServer<ApiContext>({
    // Execution compiled by graphql-jit (see jit-executor.ts); subscriptions over WebSocket keep graphql-js.
    ...(deps.executor === 'graphql-js' ? { schema } : { gateway: jitGateway(schema) }),
    introspection: config.graphql.introspection,
    csrfPrevention: true,
    // Our callers stop the server (serve on SIGINT/SIGTERM, tests, benches). Apollo's own handlers, on by
    // default outside NODE_ENV=test, stopped it first and re-raised the signal, and serve's stop then never
    // returned: Ctrl-C left `discograph serve` hanging (vitest sets NODE_ENV=test, so no test saw it).
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    formatError: formatErrorWith(logger),
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      // On by default, it hooks every field's resolution; we set no cache hints, so it would only cost.
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginDrainHttpServer({ httpServer }),
      operationPlugin(config, metrics, logger),
      { async serverWillStart() { return { async drainServer() { await wsCleanup.dispose() } } } },
    ],
  })
  await apollo.start()

  async function graphql(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    let body: unknown
    if (req.method === 'POST') {
      const text = await readBody(req, config.graphql.maxBodyBytes)
      try {
        body = text && /json/i.test(req.headers['content-type'] ?? '') ? JSON.parse(text) : text
      } catch {
        return sendJson(res, 400, errorBody('request body is not valid JSON', 'BAD_REQUEST'))
      }
    }
    let viewer: Viewer
    try {
      const header = req.headers.authorization ?? (req.headers['x-api-key'] as string | undefined)
      viewer = await auth.viewerFor(header)
    } catch (err) {
      if (err instanceof UnauthenticatedError) return sendJson(res, 401, errorBody(err.message, err.code), { 'www-authenticate': 'Bearer' })
      throw err
    }
    const headers = new HeaderMap()
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v)
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
      context: async () => contextFor(viewer),
    })
    for (const [k, v] of result.headers) res.setHeader(k, v)
    res.statusCode = result.status ?? 200
    if (result.body.kind === 'complete') {
      res.end(result.body.string)
    } else {
      for await (const chunk of result.body.asyncIterator) res.write(chunk)
      res.end()
    }
  }

  async function health(res: http.ServerResponse): Promise<void> {
    try {
      await db.pool.query('SELECT 1')
      const pending = (await pendingMigrations(db)).length > 0
      sendJson(res, pending ? 503 : 200, { status: pending ? 'migrations pending' : 'ok', database: db.kind, migrations: pending ? 'pending' : 'current' })
    } catch (err) {
      sendJson(res, 503, { status: 'database unreachable', database: db.kind, error: (err as Error).message })
    }
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<string> {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const wantsHtml = req.method === 'GET' && /text\/html/.test(req.headers.accept ?? '') && !url.searchParams.has('query')
    if (url.pathname === GRAPHQL_PATH && !wantsHtml) {
      await graphql(req, res, url)
      return 'graphql'
    }
    if (url.pathname === GRAPHQL_PATH || url.pathname === '/graphiql') {
      const example = await new CatalogReadRepository(db.pool).exampleRelease()
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(graphiqlPage(GRAPHQL_PATH, graphiqlDefaultQuery(example)))
      return 'graphiql'
    }
    if (url.pathname.startsWith('/vendor/')) {
      const asset = graphiqlAssets[path.basename(url.pathname)]
      if (!asset) return (sendJson(res, 404, { error: 'not found' }), 'vendor')
      res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'public, max-age=86400' })
      fs.createReadStream(asset.file).pipe(res)
      return 'vendor'
    }
    if (url.pathname === '/healthz') return (await health(res), 'healthz')
    if (url.pathname === '/metrics') {
      res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(await metrics.registry.metrics())
      return 'metrics'
    }
    if (await serveWebAsset(url.pathname, res, { db, config }, req.headers.range)) return 'web'
    sendJson(res, 404, { error: `nothing at ${url.pathname}` })
    return 'not-found'
  }

  httpServer.on('request', (req, res) => {
    const started = performance.now()
    route(req, res)
      .then((name) => finish(name))
      .catch((err) => {
        if (err instanceof BodyTooLargeError) {
          sendJson(res, 413, errorBody(`request body over ${config.graphql.maxBodyBytes} bytes`, 'PAYLOAD_TOO_LARGE'), { connection: 'close' })
        } else {
          logger.error({ err, url: req.url }, 'request failed')
          if (!res.headersSent) sendJson(res, 500, errorBody('Internal server error', 'INTERNAL_SERVER_ERROR'))
          else res.destroy()
        }
        finish('error')
      })
    function finish(routeName: string) {
      const seconds = (performance.now() - started) / 1000
      metrics.requests.inc({ route: routeName, method: req.method ?? '', status: String(res.statusCode) })
      metrics.latency.observe({ route: routeName }, seconds)
      if (routeName !== 'graphql') logger.debug({ method: req.method, url: req.url, status: res.statusCode, ms: Math.round(seconds * 1000) }, 'http')
    }
  })

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject)
    httpServer.listen(listen.port, listen.host, () => resolve())
  })
  const port = (httpServer.address() as AddressInfo).port
  const shownHost = listen.host === '0.0.0.0' || listen.host === '::' ? 'localhost' : listen.host
  return {
    url: `http://${shownHost}:${port}`,
    port,
    // Drains in-flight requests (Apollo's drain plugin closes idle keep-alive sockets, then waits).
    close: () => apollo.stop(),
  }
}
