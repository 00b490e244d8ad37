import type http from 'node:http'
import type { Config } from '../../config/config.ts'
import type { Database } from '../../db/database.ts'
import { BadInputError, DiscographError, NotFoundError, UnavailableError } from '../../errors.ts'
import type { Logger } from '../../logger.ts'
import { ForbiddenError, UnauthenticatedError, type AuthService } from '../../services/auth.service.ts'
import { LibraryService } from '../../services/library.service.ts'
import { PlaylistService } from '../../services/playlist.service.ts'
import { ScrobbleService } from '../../services/scrobble.service.ts'
import type { SimilarityService } from '../../services/similarity.service.ts'
import { SonicService } from '../../services/sonic.service.ts'
import { authenticate } from './auth.ts'
import { browsingHandlers } from './browsing.ts'
import { ErrorCode, formatOf, sendBody, sendError, SubsonicError, type Format } from './envelope.ts'
import { listHandlers } from './lists.ts'
import { mediaHandlers } from './media.ts'
import { STREAMED, type Handler, type SubsonicServices } from './model.ts'
import { Params } from './params.ts'
import { playlistHandlers } from './playlists.ts'
import { scrobbleHandlers } from './scrobble.ts'
import { searchHandlers } from './search.ts'
import { similarityHandlers } from './similarity.ts'
import { openSubsonicExtensions, systemHandlers } from './system.ts'

/**
 * The Subsonic API 1.16.1 with OpenSubsonic's additions, at /rest/<method>[.view]: music players browse,
 * search, stream and mix the library (the catalog's tracks that have audio) through it. docs/subsonic.md
 * lists the methods; any other answers error 0, "not implemented".
 */

export const SUBSONIC_PATH = '/rest/'

export interface SubsonicDeps {
  db: Database
  config: Config
  auth: AuthService
  similarity: SimilarityService
  logger: Logger
}

export const HANDLERS: Readonly<Record<string, Handler>> = {
  ...systemHandlers,
  ...browsingHandlers,
  ...listHandlers,
  ...searchHandlers,
  ...mediaHandlers,
  ...similarityHandlers,
  ...playlistHandlers,
  ...scrobbleHandlers,
}

// one set of services per database (the server's lifetime), made on the first request
const servicesByDb = new WeakMap<Database, SubsonicServices>()

function servicesFor(deps: SubsonicDeps): SubsonicServices {
  let services = servicesByDb.get(deps.db)
  if (!services) {
    services = {
      library: new LibraryService(deps.db),
      playlists: new PlaylistService(deps.db.pool),
      scrobbles: new ScrobbleService(deps.db.pool),
      sonic: new SonicService(deps.db, deps.config, deps.similarity),
      similarity: deps.similarity,
    }
    servicesByDb.set(deps.db, services)
    services.library.warmSearch()
  }
  return services
}

/** Answers one request under /rest/ (the route table's `subsonic`, `public`: the key comes in Subsonic's parameters). */
export async function serveSubsonic(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  deps: SubsonicDeps,
): Promise<void> {
  const method = url.pathname.slice(SUBSONIC_PATH.length).replace(/\.view$/, '')
  let format: Format = formatOf(
    url.searchParams.get('f') ?? undefined,
    url.searchParams.get('callback') ?? undefined,
  )
  try {
    const params = await Params.of(req, url)
    format = formatOf(params.get('f'), params.get('callback'))
    if (method === 'getOpenSubsonicExtensions') {
      sendBody(res, format, openSubsonicExtensions())
      return
    }
    const viewer = await authenticate(params, deps.auth)
    const handler = Object.hasOwn(HANDLERS, method) ? HANDLERS[method] : undefined
    if (!handler)
      throw new SubsonicError(
        ErrorCode.generic,
        `not implemented: ${method || '(no method)'} (docs/subsonic.md lists the methods Discograph answers)`,
      )
    const body = await handler({
      params,
      viewer,
      services: servicesFor(deps),
      req,
      res,
      format,
      logger: deps.logger,
    })
    if (body !== STREAMED) sendBody(res, format, body)
  } catch (err) {
    const error = toSubsonicError(err, deps.logger, method)
    if (res.headersSent) res.destroy()
    else sendError(res, format, error)
  }
}

/** Our failures as the spec's codes; anything unexpected is logged and answered without details. */
function toSubsonicError(err: unknown, logger: Logger, method: string): SubsonicError {
  if (err instanceof SubsonicError) return err
  if (err instanceof NotFoundError) return new SubsonicError(ErrorCode.notFound, err.message)
  if (err instanceof ForbiddenError) return new SubsonicError(ErrorCode.notAuthorized, err.message)
  if (err instanceof UnauthenticatedError) return new SubsonicError(ErrorCode.wrongCredentials, err.message)
  if (err instanceof BadInputError || err instanceof UnavailableError || err instanceof DiscographError)
    return new SubsonicError(ErrorCode.generic, err.message)
  logger.error({ err, method }, 'subsonic request failed')
  return new SubsonicError(ErrorCode.generic, 'internal error')
}
