import { createClient } from 'graphql-ws'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApi, type TestApi } from '../support/api.ts'
import { createServerTestDatabase, type TestDatabase } from '../support/database.ts'

/**
 * Strings PostgreSQL cannot take (NUL, lone surrogates, bytes that were not UTF-8) in any argument are
 * refused as BAD_USER_INPUT naming the argument, before a resolver runs, over HTTP and WebSocket alike.
 */
describe('GraphQL string arguments PostgreSQL cannot store', () => {
  let t: TestDatabase
  let api: TestApi
  beforeAll(async () => {
    t = await createServerTestDatabase()
    api = await startTestApi(t)
  })
  afterAll(async () => {
    await api?.close()
    await t?.dispose()
  })

  const SEARCH = `query($q: String!) { search(query: $q) { edges { score } } }`
  const refusal = (r: {
    status: number
    body: { errors?: { message: string; extensions?: { code?: string } }[] }
  }) => ({
    status: r.status,
    code: r.body.errors?.[0]?.extensions?.code,
    message: r.body.errors?.[0]?.message,
  })

  async function raw(body: Buffer | string, path = '/graphql', method = 'POST') {
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'apollo-require-preflight': 'true' },
      ...(method === 'POST'
        ? { body: new Uint8Array(typeof body === 'string' ? Buffer.from(body) : body) }
        : {}),
    })
    return { status: res.status, body: await res.json() }
  }

  it('refuses a NUL anywhere: search, filters, ids, mutations, literals and variables, naming the argument', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      [SEARCH, { q: 'love\u0000' }, 'search(query): contains a NUL character (U+0000), from $q'],
      [
        `{ search(query: "lo\\u0000ve") { edges { score } } }`,
        {},
        'search(query): contains a NUL character (U+0000)',
      ],
      [
        `query($s: [String!]) { releases(filter: { styles: $s }) { totalCount } }`,
        { s: ['House', 'Deep\u0000House'] },
        'releases(filter.styles[1]): contains a NUL character (U+0000), from $s',
      ],
      [
        `query($f: ReleaseFilter) { releases(filter: $f) { totalCount } }`,
        { f: { countries: ['UK\u0000'] } },
        'releases(filter.countries[0]): contains a NUL character (U+0000), from $f',
      ],
      [
        `query($id: ID!) { node(id: $id) { id } }`,
        { id: 'UmVsZWFzZTox\u0000' },
        'node(id): contains a NUL character (U+0000), from $id',
      ],
      [`{ track(id: "\\u0000") { title } }`, {}, 'track(id): contains a NUL character (U+0000)'],
      [
        `{ jobs(after: "\\u0000") { edges { cursor } } }`,
        {},
        'jobs(after): contains a NUL character (U+0000)',
      ],
      [
        `mutation { importDiscogs(files: ["/dumps/a\\u0000.xml"]) { id } }`,
        {},
        'importDiscogs(files[0]): contains a NUL character (U+0000)',
      ],
      [
        `{ ... on Query { search(query: "\\u0000") { edges { score } } } }`,
        {},
        'search(query): contains a NUL character (U+0000)',
      ],
      [
        `query { ...F } fragment F on Query { release(discogsId: 1) { tracks { edges { node { similar: predictions(probe: "p\\u0000") { source } } } } } }`,
        {},
        'predictions(probe): contains a NUL character (U+0000)',
      ],
    ]
    for (const [query, variables, message] of cases) {
      expect(refusal(await api.gql(query, variables)), query).toEqual({
        status: 400,
        code: 'BAD_USER_INPUT',
        message,
      })
    }
  })

  it('refuses a lone surrogate, and bytes that were not UTF-8, in a body or a URL', async () => {
    // JSON can spell a lone surrogate; JSON.stringify would not send one, so the body is written by hand
    const lone = await raw(`{"query":${JSON.stringify(SEARCH)},"variables":{"q":"a\\ud800b"}}`)
    expect(refusal(lone)).toEqual({
      status: 400,
      code: 'BAD_USER_INPUT',
      message: 'search(query): contains a lone UTF-16 surrogate (not a Unicode character), from $q',
    })
    const latin1 = Buffer.concat([
      Buffer.from(`{"query":${JSON.stringify(SEARCH)},"variables":{"q":"caf`),
      Buffer.from([0xe9]),
      Buffer.from('"}}'),
    ])
    expect(refusal(await raw(latin1))).toEqual({
      status: 400,
      code: 'BAD_USER_INPUT',
      message: 'search(query): contains bytes that are not UTF-8, from $q',
    })
    const get = (q: string) => raw('', `/graphql?query=${encodeURIComponent(SEARCH)}&variables=${q}`, 'GET')
    expect(refusal(await get('%7B%22q%22%3A%22caf%E9%22%7D'))).toMatchObject({
      code: 'BAD_USER_INPUT',
      message: 'search(query): contains bytes that are not UTF-8, from $q',
    })
    expect(refusal(await get(encodeURIComponent('{"q":"a\\u0000"}')))).toMatchObject({
      code: 'BAD_USER_INPUT',
      message: 'search(query): contains a NUL character (U+0000), from $q',
    })
  })

  it('lets through what PostgreSQL stores: U+FFFD sent as UTF-8, surrogate pairs, any other control character', async () => {
    for (const q of ['caf\ufffd', 'emoji 🎧 pair', 'tab\there', 'é\u0001']) {
      const r = await api.gql(SEARCH, { q })
      expect(r.body.errors, q).toBeUndefined()
    }
  })

  it('refuses the same over WebSocket subscriptions', async () => {
    const client = createClient({
      url: api.url.replace('http', 'ws') + '/graphql',
      webSocketImpl: WebSocket,
      retryAttempts: 0,
    })
    const outcome = await new Promise<unknown>((resolve) => {
      client.subscribe(
        {
          query: `subscription($r: String!) { trainingCurve(idOrName: $r) { step } }`,
          variables: { r: 'run\u0000' },
        },
        { next: resolve, error: resolve, complete: () => resolve('complete') },
      )
    })
    await client.dispose()
    expect(outcome).toEqual([
      expect.objectContaining({
        message: 'trainingCurve(idOrName): contains a NUL character (U+0000), from $r',
        extensions: { code: 'BAD_USER_INPUT', argument: 'idOrName' },
      }),
    ])
  })
})
