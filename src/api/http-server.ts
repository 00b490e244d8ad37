import fs from 'node:fs'
import { isUtf8 } from 'node:buffer'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { ApolloServer, HeaderMap, type ApolloServerPlugin } from '@apollo/server'
import { unwrapResolverError } from '@apollo/server/errors'
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled'
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer'
import { GraphQLError, parse, type GraphQLFormattedError } from 'graphql'
import { useServer } from 'graphql-ws/use/ws'
import { WebSocketServer } from 'ws'
import type { Config } from '../config/config.ts'
import { changeFeedFor } from '../db/change-feed.ts'
import type { Database } from '../db/database.ts'
import { CountingQueryable, isDatabaseUnavailable } from '../db/sql.ts'
import { DiscographError, UnavailableError } from '../errors.ts'
import type { JobQueue } from '../jobs/queue.ts'
import type { Logger } from '../logger.ts'
import type { CatalogContext } from '../resolvers/catalog.ts'
import type { JobsContext } from '../resolvers/jobs.ts'
import type { MixContext } from '../resolvers/mix.ts'
import { EmbeddingMapService, type EmbeddingMapOptions } from '../services/embedding-map.service.ts'
import { HealthService } from '../services/health.service.ts'
import { ModelService } from '../services/model.service.ts'
import { LibraryService } from '../services/library.service.ts'
import { MixService } from '../services/mix.service.ts'
import { PlaylistService } from '../services/playlist.service.ts'
import { SimilarityService, type SimilarityOptions } from '../services/similarity.service.ts'
import { AudioPlaybackService } from '../services/audio-playback.service.ts'
import {
  AuthService,
  ForbiddenError,
  UnauthenticatedError,
  type Access,
  type Viewer,
} from '../services/auth.service.ts'
import { CatalogService } from '../services/catalog.service.ts'
import { SearchService } from '../services/search.service.ts'
import { authorizeRequest } from './access.ts'
import { badStringArgument } from './input-strings.ts'
import { graphiqlDefaultQuery } from './example-queries.ts'
import { graphiqlAssets, graphiqlPage } from './graphiql.ts'
import { jitGateway } from './jit-executor.ts'
import { limitError, measureOperation } from './limits.ts'
import { createLoaders } from './loaders.ts'
import { createMetrics, type Metrics } from './metrics.ts'
import { buildSchema } from './schema.ts'
import { FileMissingError } from './send-file.ts'
import { sendAudio, serveStaticFile } from './web-assets.ts'
import { serveSubsonic, SUBSONIC_PATH } from './subsonic/router.ts'

export interface ApiContext extends CatalogContext, JobsContext, MixContext {
  sql: CountingQueryable
  db: Database
  config: Config
  /** The request's bytes were not all UTF-8 (decoded leniently: U+FFFD in their place). */
  invalidUtf8?: boolean
}

/**
 * One entry of the route table: which requests it takes, what it asks of the caller (checked once, by
 * `authorizeRequest`, before `handle` runs), and the name metrics count it under.
 */
interface Route {
  name: string
  access: Access
  matches(req: http.IncomingMessage, url: URL): boolean
  handle(req: http.IncomingMessage, res: http.ServerResponse, url: URL, viewer: Viewer): Promise<void>
}

const at = (pathname: string) => (_: http.IncomingMessage, url: URL) => url.pathname === pathname
const under = (prefix: string) => (_: http.IncomingMessage, url: URL) => url.pathname.startsWith(prefix)

export interface ApiDeps {
  db: Database
  config: Config
  logger: Logger
  queue: JobQueue
  /** HNSW scan settings of similarity queries (benchmarks vary ef_search). */
  similarityOptions?: SimilarityOptions
  /** How operations execute: compiled by graphql-jit (default), or graphql-js (benchmarks compare the two). */
  executor?: 'jit' | 'graphql-js'
  /** How long a request waits for an embedding map being computed (default 20 s; tests change it). */
  mapOptions?: Pick<EmbeddingMapOptions, 'waitMs'>
}

export interface ApiServer {
  url: string
  port: number
  close(): Promise<void>
}

const GRAPHQL_PATH = '/graphql'

class BodyTooLargeError extends Error {}

function readBody(req: http.IncomingMessage, maxBytes: number): Promise<Buffer> {
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
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/** Whether a query string's percent-escapes decode to UTF-8 (URLSearchParams decodes leniently). */
function searchIsUtf8(search: string): boolean {
  try {
    decodeURIComponent(search.replaceAll('+', ' '))
    return true
  } catch {
    return false
  }
}

function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers })
  res.end(JSON.stringify(body))
}

function errorBody(message: string, code: string) {
  return { errors: [{ message, extensions: { code } }] }
}

/** Maps our errors to `extensions.code` in one place; internal errors are logged and never leak details. */
function formatErrorWith(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    let original = unwrapResolverError(error)
    // A database restarting or out of reach is no fault of the query: the client may try again.
    if (!(original instanceof DiscographError) && isDatabaseUnavailable(original))
      original = new UnavailableError(
        'the database is unavailable (restarting or unreachable); try again shortly',
      )
    if (original instanceof DiscographError) {
      return {
        message: original.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code: original.code },
      }
    }
    if (formatted.extensions?.code === 'INTERNAL_SERVER_ERROR') {
      logger.error({ err: original, path: formatted.path }, 'resolver failed')
      return {
        message: 'Internal server error',
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      }
    }
    return formatted
  }
}

/**
 * The same mapping for subscriptions, whose errors graphql-ws sends as graphql-js formats them: our errors
 * get their code, any other resolver error is masked as Apollo masks it, and `http` (a status meant for
 * HTTP responses) is dropped.
 */
function formatWsErrorWith(logger: Logger) {
  const format = formatErrorWith(logger)
  return (error: GraphQLError): GraphQLFormattedError => {
    const { http: _, ...extensions } = (error.extensions ?? {}) as Record<string, unknown>
    const internal =
      error.originalError &&
      !(error.originalError instanceof GraphQLError) &&
      !(error.originalError instanceof DiscographError)
    const code = extensions.code ?? (internal ? 'INTERNAL_SERVER_ERROR' : undefined)
    return format({ ...error.toJSON(), extensions: { ...extensions, ...(code ? { code } : {}) } }, error)
  }
}

/** Per-operation limits, metrics and the SQL statement count (Server-Timing, x-sql-statements). */
function operationPlugin(config: Config, metrics: Metrics, logger: Logger): ApolloServerPlugin<ApiContext> {
  return {
    async requestDidStart() {
      const started = performance.now()
      return {
        async didResolveOperation({ document, operation, request, schema, contextValue }) {
          if (!operation) return
          const badString = badStringArgument(document, request.variables ?? {}, {
            invalidUtf8: contextValue.invalidUtf8,
          })
          if (badString) throw badString
          const error = limitError(
            measureOperation(schema, document, operation, request.variables ?? {}),
            config.graphql,
          )
          if (error) throw error
        },
        async willSendResponse({ contextValue, operationName, operation, errors, response }) {
          const { statements, millis } = contextValue.sql
          metrics.operations.inc({
            operation: operationName ?? 'anonymous',
            type: operation?.operation ?? 'unknown',
            outcome: errors?.length ? 'error' : 'ok',
          })
          metrics.statements.observe(statements)
          response.http.headers.set('x-sql-statements', String(statements))
          response.http.headers.set(
            'server-timing',
            `db;desc="${statements} SQL statements";dur=${millis.toFixed(1)}`,
          )
          logger.info(
            {
              operation: operationName,
              type: operation?.operation,
              ms: Math.round(performance.now() - started),
              sqlStatements: statements,
              errors: errors?.length ?? 0,
            },
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
export async function startApiServer(
  deps: ApiDeps,
  listen: { port: number; host: string },
): Promise<ApiServer> {
  const { db, config, logger, queue } = deps
  const auth = new AuthService(db.pool, {
    publicRead: config.publicRead,
    metricsToken: config.metricsToken,
    urlSigningSecret: config.urlSigningSecret,
  })
  const playback = new AudioPlaybackService(db.pool)
  // one LISTEN connection for every subscription of this server (opened at the first)
  const changes = changeFeedFor(db)
  const readiness = new HealthService(db)
  const metrics = createMetrics(db.pool)
  const similarity = new SimilarityService(db, deps.similarityOptions)
  const models = new ModelService(db, config)
  const maps = new EmbeddingMapService(db.pool, {
    ...deps.mapOptions,
    onComputed: (m) => {
      metrics.mapComputations.inc({ space: m.space })
      logger.info(m, 'embedding map computed')
    },
  })
  const mixes = new MixService(db, similarity)
  const library = new LibraryService(db)
  const playlists = new PlaylistService(db.pool)
  const schema = buildSchema()
  const httpServer = http.createServer()

  const contextFor = (viewer: Viewer): ApiContext => {
    const sql = new CountingQueryable(db.pool, db.kind === 'server')
    const signedUrl = (path: string) => auth.signedUrl(path, viewer)
    // the catalog's services per request, on its counting Queryable: their statements are the request's
    const catalog = new CatalogService(sql)
    return {
      viewer,
      auth,
      jobs: queue,
      changes,
      sql,
      loaders: createLoaders(catalog),
      catalog,
      search: new SearchService(sql),
      db,
      config,
      similarity,
      models,
      maps,
      mixes,
      library,
      playlists,
      signedUrl,
    }
  }

  // Subscriptions: the caller is settled once per connection (a browser's WebSocket cannot send headers, so
  // the key comes in the connection parameters; other clients may send the header); a bad key closes it.
  const wsViewers = new WeakMap<object, Viewer>()
  const formatWsError = formatWsErrorWith(logger)
  const wsServer = new WebSocketServer({ server: httpServer, path: GRAPHQL_PATH })
  const wsCleanup = useServer(
    {
      schema,
      onConnect: async (ctx) => {
        const param = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization
        const header = typeof param === 'string' ? param : ctx.extra.request.headers.authorization
        try {
          wsViewers.set(ctx, await auth.authorize('caller', header ? { header } : {}))
          return true
        } catch (err) {
          if (err instanceof UnauthenticatedError) return false
          throw err
        }
      },
      context: (ctx) => contextFor(wsViewers.get(ctx) ?? { role: 'anonymous' }),
      // The same refusal of unstorable strings as over HTTP (operationPlugin); ws itself refuses frames that are not UTF-8.
      onSubscribe: (_ctx, _id, payload) => {
        let document
        try {
          document = parse(payload.query)
        } catch {
          return // graphql-ws reports the syntax error itself
        }
        const bad = badStringArgument(document, payload.variables ?? {})
        return bad ? [bad] : undefined
      },
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: result.errors.map(formatWsError) } : undefined,
      onError: (_ctx, _id, _payload, errors) => errors.map(formatWsError),
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
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await wsCleanup.dispose()
            },
          }
        },
      },
    ],
  })
  await apollo.start()

  async function graphql(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    viewer: Viewer,
  ): Promise<void> {
    let body: unknown
    let invalidUtf8 = !searchIsUtf8(url.search)
    if (req.method === 'POST') {
      const raw = await readBody(req, config.graphql.maxBodyBytes)
      invalidUtf8 ||= !isUtf8(raw)
      const text = raw.toString('utf8')
      try {
        body = text && /json/i.test(req.headers['content-type'] ?? '') ? JSON.parse(text) : text
      } catch {
        return sendJson(res, 400, errorBody('request body is not valid JSON', 'BAD_REQUEST'))
      }
    }
    const headers = new HeaderMap()
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v)
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
      context: async () => ({ ...contextFor(viewer), invalidUtf8 }),
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

  /** GraphiQL's page holds no data (its queries go through /graphql with the key typed in its header editor)
   * but an example query naming a release, and only when anyone may read the catalog anyway. */
  async function graphiql(_req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const example = config.publicRead ? await new CatalogService(db.pool).exampleRelease() : 'key-only'
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(graphiqlPage(GRAPHQL_PATH, graphiqlDefaultQuery(example)))
  }

  async function vendor(_req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const asset = graphiqlAssets[path.basename(url.pathname)]
    if (!asset) return sendJson(res, 404, { error: 'not found' })
    res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'public, max-age=86400' })
    fs.createReadStream(asset.file).pipe(res)
  }

  /** For load balancers and orchestrators, so open to all: says whether to send traffic, not why not. */
  async function health(_req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const { ready, report, error } = await readiness.check()
    if (error) logger.warn({ err: error }, 'health check: database unreachable')
    sendJson(res, ready ? 200 : 503, report)
  }

  async function metricsText(_req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(await metrics.registry.metrics())
  }

  /** `/audio/tracks/<track id>`: the audio file linked to a track, so the UI can play it. */
  async function audio(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const m = /^\/audio\/tracks\/(\d{1,10})$/.exec(url.pathname)
    const file = m ? await playback.fileOfTrack(Number(m[1])) : null
    if (!file)
      return sendJson(res, 404, { error: m ? `no audio for track ${m[1]}` : `nothing at ${url.pathname}` })
    try {
      await sendAudio(req, res, file, config.publicRead)
    } catch (err) {
      if (!(err instanceof FileMissingError)) throw err
      sendJson(res, 404, { error: `the audio file of track ${m![1]} is missing` })
    }
  }

  async function web(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    if (!(await serveStaticFile(url.pathname, req, res)))
      sendJson(res, 404, { error: `nothing at ${url.pathname}` })
  }

  const isGraphiqlPage = (req: http.IncomingMessage, url: URL) =>
    url.pathname === '/graphiql' ||
    (url.pathname === GRAPHQL_PATH &&
      req.method === 'GET' &&
      /text\/html/.test(req.headers.accept ?? '') &&
      !url.searchParams.has('query'))

  // First match wins. Data goes through `graphql` (each field checks the viewer) and `audio`; everything
  // `public` is code or liveness, never catalog or job data (a route reading credentials of its own kind
  // excepted: see access.ts). A new route is one line here.
  const routes: Route[] = [
    { name: 'graphiql', access: 'public', matches: isGraphiqlPage, handle: graphiql },
    { name: 'graphql', access: 'caller', matches: at(GRAPHQL_PATH), handle: graphql },
    { name: 'vendor', access: 'public', matches: under('/vendor/'), handle: vendor },
    { name: 'healthz', access: 'public', matches: at('/healthz'), handle: health },
    { name: 'metrics', access: 'metrics', matches: at('/metrics'), handle: metricsText },
    { name: 'audio', access: 'read', matches: under('/audio/'), handle: audio },
    {
      name: 'subsonic',
      access: 'public',
      matches: under(SUBSONIC_PATH),
      handle: (req, res, url) => serveSubsonic(req, res, url, { db, config, auth, similarity, logger }),
    },
    { name: 'web', access: 'public', matches: () => true, handle: web },
  ]

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<string> {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const r = routes.find((candidate) => candidate.matches(req, url))!
    let viewer: Viewer
    try {
      viewer = await authorizeRequest(auth, r.access, req, url)
    } catch (err) {
      if (err instanceof UnauthenticatedError)
        sendJson(res, 401, errorBody(err.message, err.code), { 'www-authenticate': 'Bearer' })
      else if (err instanceof ForbiddenError) sendJson(res, 403, errorBody(err.message, err.code))
      else throw err
      return r.name
    }
    await r.handle(req, res, url, viewer)
    return r.name
  }

  httpServer.on('request', (req, res) => {
    const started = performance.now()
    route(req, res)
      .then((name) => finish(name))
      .catch((err) => {
        if (err instanceof BodyTooLargeError) {
          sendJson(
            res,
            413,
            errorBody(`request body over ${config.graphql.maxBodyBytes} bytes`, 'PAYLOAD_TOO_LARGE'),
            { connection: 'close' },
          )
        } else {
          logger.error({ err, url: req.url }, 'request failed')
          if (!res.headersSent)
            sendJson(res, 500, errorBody('Internal server error', 'INTERNAL_SERVER_ERROR'))
          else res.destroy()
        }
        finish('error')
      })
    function finish(routeName: string) {
      const seconds = (performance.now() - started) / 1000
      metrics.requests.inc({ route: routeName, method: req.method ?? '', status: String(res.statusCode) })
      metrics.latency.observe({ route: routeName }, seconds)
      if (routeName !== 'graphql')
        logger.debug(
          { method: req.method, url: req.url, status: res.statusCode, ms: Math.round(seconds * 1000) },
          'http',
        )
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
    close: async () => {
      maps.close()
      await apollo.stop()
      await changes.close()
    },
  }
}
