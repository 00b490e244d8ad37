import type http from 'node:http'
import { ErrorCode, SubsonicError } from './envelope.ts'

/** A form body larger than this is refused (a playlist of 5000 songs is about 60 kB). */
export const MAX_FORM_BYTES = 1 << 20

/**
 * A request's parameters: the query string's, and with the OpenSubsonic `formPost` extension those of a
 * POST body in application/x-www-form-urlencoded (so credentials and long id lists stay out of URLs).
 * Names repeat for lists (`songId=…&songId=…`).
 */
export class Params {
  constructor(private readonly values: URLSearchParams) {}

  static async of(req: http.IncomingMessage, url: URL): Promise<Params> {
    const all = new URLSearchParams(url.search)
    if (
      req.method === 'POST' &&
      /application\/x-www-form-urlencoded/i.test(req.headers['content-type'] ?? '')
    ) {
      for (const [k, v] of new URLSearchParams(await readForm(req))) all.append(k, v)
    }
    return new Params(all)
  }

  get(name: string): string | undefined {
    return this.values.get(name) ?? undefined
  }

  has(name: string): boolean {
    return this.values.has(name)
  }

  all(name: string): string[] {
    return this.values.getAll(name)
  }

  required(name: string): string {
    const v = this.get(name)
    if (v === undefined || v === '')
      throw new SubsonicError(ErrorCode.missingParameter, `Required parameter is missing: ${name}`)
    return v
  }

  int(name: string, fallback: number): number
  int(name: string): number | undefined
  int(name: string, fallback?: number): number | undefined {
    const v = this.get(name)
    if (v === undefined || v === '') return fallback
    return toInt(name, v)
  }

  requiredInt(name: string): number {
    return toInt(name, this.required(name))
  }

  ints(name: string): number[] {
    return this.all(name).map((v) => toInt(name, v))
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.get(name)
    if (v === undefined || v === '') return fallback
    if (v === 'true' || v === '1') return true
    if (v === 'false' || v === '0') return false
    throw new SubsonicError(ErrorCode.generic, `${name}: not a boolean: "${v}"`)
  }
}

function toInt(name: string, v: string): number {
  if (!/^-?\d{1,15}$/.test(v.trim()))
    throw new SubsonicError(ErrorCode.generic, `${name}: not an integer: "${v}"`)
  return Number(v)
}

function readForm(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_FORM_BYTES) {
        reject(new SubsonicError(ErrorCode.generic, `form body over ${MAX_FORM_BYTES} bytes`))
        req.resume()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}
