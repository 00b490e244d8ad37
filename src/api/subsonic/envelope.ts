import type http from 'node:http'

/**
 * The Subsonic response envelope (`subsonic-response`: status, version, type, serverVersion, openSubsonic)
 * and its two encodings: XML, the default, where scalar fields are attributes and objects and arrays are
 * child elements, and JSON (`f=json`, or `f=jsonp` with `callback`), the same tree as objects.
 */

export const API_VERSION = '1.16.1'
export const SERVER_TYPE = 'discograph'
export const SERVER_VERSION = '0.1.0'
const XMLNS = 'http://subsonic.org/restapi'

/** The spec's error codes. */
export const ErrorCode = {
  generic: 0,
  missingParameter: 10,
  clientTooOld: 20,
  serverTooOld: 30,
  wrongCredentials: 40,
  tokenAuthNotSupported: 41,
  authMechanismNotSupported: 42,
  conflictingAuth: 43,
  invalidApiKey: 44,
  notAuthorized: 50,
  notFound: 70,
} as const

/** A failure answered as the spec's `error` element, with its code. */
export class SubsonicError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message)
    this.name = 'SubsonicError'
  }
}

export type Format = { kind: 'xml' } | { kind: 'json' } | { kind: 'jsonp'; callback: string }

/** The body's fields go beside the envelope's: `{ album: {...} }` → `subsonic-response.album`. */
export type Body = Record<string, unknown>

export function formatOf(f: string | undefined, callback: string | undefined): Format {
  if (f === 'json') return { kind: 'json' }
  // a JavaScript identifier path only: the callback is echoed into a script
  if (f === 'jsonp' && callback && /^[A-Za-z_$][\w$.]{0,100}$/.test(callback))
    return { kind: 'jsonp', callback }
  return { kind: 'xml' }
}

export function envelope(status: 'ok' | 'failed', body: Body): Body {
  return {
    status,
    version: API_VERSION,
    type: SERVER_TYPE,
    serverVersion: SERVER_VERSION,
    openSubsonic: true,
    ...body,
  }
}

export function sendBody(res: http.ServerResponse, format: Format, body: Body): void {
  const root = envelope('ok', body)
  send(res, format, root)
}

export function sendError(res: http.ServerResponse, format: Format, error: SubsonicError): void {
  send(res, format, envelope('failed', { error: { code: error.code, message: error.message } }))
}

function send(res: http.ServerResponse, format: Format, root: Body): void {
  // Subsonic answers failures with HTTP 200 too: clients read `status`.
  if (format.kind === 'xml') {
    res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' })
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?>\n${toXml('subsonic-response', { xmlns: XMLNS, ...root })}`,
    )
    return
  }
  const json = JSON.stringify({ 'subsonic-response': root })
  if (format.kind === 'jsonp') {
    res
      .writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' })
      .end(`${format.callback}(${json});`)
  } else {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(json)
  }
}

/**
 * Fields that XML carries as child elements with text rather than attributes (artistInfo's biography,
 * albumInfo's notes). `value` is an element's own text (a genre's name).
 */
const TEXT_ELEMENTS = new Set([
  'biography',
  'notes',
  'lastFmUrl',
  'smallImageUrl',
  'mediumImageUrl',
  'largeImageUrl',
])

/** One element: scalars as attributes, objects and arrays of objects as children, arrays of scalars as text children. */
export function toXml(name: string, fields: Body): string {
  let attrs = ''
  let children = ''
  let text = ''
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || value === null) continue
    if (Array.isArray(value)) {
      for (const item of value)
        children += isObject(item) ? toXml(key, item) : `<${key}>${escapeXml(scalar(item))}</${key}>`
    } else if (isObject(value)) {
      children += toXml(key, value)
    } else if (key === 'value') {
      text = escapeXml(scalar(value))
    } else if (TEXT_ELEMENTS.has(key)) {
      children += `<${key}>${escapeXml(scalar(value))}</${key}>`
    } else {
      attrs += ` ${key}="${escapeXml(scalar(value))}"`
    }
  }
  return children || text ? `<${name}${attrs}>${text}${children}</${name}>` : `<${name}${attrs}/>`
}

function isObject(v: unknown): v is Body {
  return typeof v === 'object' && v !== null && !(v instanceof Date)
}

function scalar(v: unknown): string {
  return v instanceof Date ? v.toISOString() : String(v)
}

// XML 1.0 cannot carry most control characters at all, even escaped: they are dropped.
// eslint-disable-next-line no-control-regex
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g

export function escapeXml(s: string): string {
  return s
    .replace(INVALID_XML, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
}
