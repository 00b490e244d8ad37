import 'reflect-metadata'
import { execute, parse, type ExecutionResult } from 'graphql'
import { describe, expect, it } from 'vitest'
import { JitExecutor } from '../../src/api/jit-executor.ts'
import { createLoaders } from '../../src/api/loaders.ts'
import { buildSchema } from '../../src/api/schema.ts'
import { encodeCursor } from '../../src/api/pagination.ts'
import { CountingQueryable } from '../../src/db/sql.ts'
import { AuthService } from '../../src/services/auth.service.ts'
import { CatalogService } from '../../src/services/catalog.service.ts'
import { SearchService } from '../../src/services/search.service.ts'
import { useFixtureApi } from '../support/api.ts'
import { createServerTestDatabase } from '../support/database.ts'

/**
 * The API executes operations compiled by graphql-jit. These compare its results, errors included, with
 * graphql-js's execution of the same operation over the same data, and check the error shapes clients see.
 */
describe('compiled GraphQL execution (graphql-jit) answers as graphql-js does', () => {
  const fx = useFixtureApi(createServerTestDatabase)
  const schema = buildSchema()

  // A fresh context per execution, so neither side sees the other's DataLoader cache.
  async function context() {
    const auth = new AuthService(fx.t.db.pool, { publicRead: true })
    const sql = new CountingQueryable(fx.t.db.pool, true)
    const catalog = new CatalogService(sql)
    const search = new SearchService(sql)
    return {
      viewer: await auth.viewerFor(undefined),
      auth,
      loaders: createLoaders(catalog),
      catalog,
      search,
      sql,
    }
  }
  // What reaches the client: errors as JSON (message, locations, path, extensions), data as is.
  const wire = (r: ExecutionResult) => JSON.parse(JSON.stringify(r))

  async function both(query: string, variables: Record<string, unknown> = {}, jit = new JitExecutor()) {
    const document = parse(query)
    const operation = document.definitions.find((d) => d.kind === 'OperationDefinition')
    const compiled = await jit.execute({
      schema,
      document,
      operation,
      documentKey: query,
      operationName: undefined,
      variables,
      context: await context(),
    })
    const reference = await execute({
      schema,
      document,
      variableValues: variables,
      contextValue: await context(),
    })
    return { compiled: wire(compiled), reference: wire(reference) }
  }

  const QUERIES: [string, string, Record<string, unknown>][] = [
    [
      'a release with every relation',
      `query($id: Int!) { release(discogsId: $id) { id discogsId title year released country isMainRelease status notes dataQuality
        master { discogsId title mainRelease { discogsId } genres { name } styles { id name } artists { name join artist { name } } }
        artists { name anv join role artist { id name realName urls } } credits(first: 3) { totalCount edges { cursor node { name role tracks } } pageInfo { hasNextPage endCursor } }
        labels { name catalogNumber label { name parentLabel { name } } } series { name } formats { name quantity text descriptions } identifiers { type value }
        companies { name entityTypeName label { name } } videos { url durationSeconds embed }
        tracks(first: 100) { totalCount edges { cursor node { id position title duration type subTracks { title } artists { name } } } } } }`,
      { id: 1 },
    ],
    [
      'a page of releases with a filter, fragments, aliases and __typename',
      `query($after: String, $f: ReleaseFilter) { page: releases(first: 5, after: $after, filter: $f) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { node { __typename ...R t2: title } } } } fragment R on Release { title year styles { name releaseCount } labels { label { ...L } } } fragment L on Label { name discogsId }`,
      { after: encodeCursor(1), f: { yearFrom: 1990, yearTo: 2020 } },
    ],
    [
      'nodes of mixed types, unknown ids as null',
      `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on Artist { name members { totalCount } } ... on Style { name } } }`,
      { ids: ['QXJ0aXN0OjE', 'UmVsZWFzZTo5OTk5OTk5OQ', 'U3R5bGU6RGVlcCBIb3VzZQ'] },
    ],
    [
      'search',
      `{ search(query: "stockholm", first: 3) { edges { score text node { __typename ... on Node { id } } } pageInfo { hasNextPage } } }`,
      {},
    ],
    [
      'an artist with paged lists',
      `{ artist(discogsId: 1) { name aliases(first: 2) { totalCount edges { node { name artist { name } } } } releases(role: ANY, first: 2) { totalCount edges { node { title } } } tracks(first: 2) { totalCount } } }`,
      {},
    ],
    [
      '@skip and @include',
      `query($yes: Boolean!) { release(discogsId: 1) { title @skip(if: $yes) year @include(if: $yes) } }`,
      { yes: true },
    ],
    [
      'a resolver error (bad argument) beside data',
      `{ release(discogsId: 1) { title tracks(first: 1000) { totalCount } } r2: release(discogsId: 2) { title } }`,
      {},
    ],
    ['a bad cursor', `{ releases(first: 1, after: "nonsense") { totalCount } }`, {}],
    [
      'a bad filter, null propagating to the nullable parent',
      `{ releases(filter: { yearFrom: 2000, yearTo: 1990 }) { edges { node { title } } } }`,
      {},
    ],
    ['a variable of the wrong type', `query($id: Int!) { release(discogsId: $id) { title } }`, { id: 'one' }],
    ['a missing required variable', `query($id: Int!) { release(discogsId: $id) { title } }`, {}],
    [
      'an out-of-range Int variable',
      `query($id: Int!) { release(discogsId: $id) { title } }`,
      { id: 2 ** 40 },
    ],
  ]

  for (const [name, query, variables] of QUERIES) {
    it(`same result: ${name}`, async () => {
      const { compiled, reference } = await both(query, variables)
      expect(compiled).toEqual(reference)
      expect(reference.data ?? reference.errors).toBeTruthy()
    })
  }

  it('keeps errors: a bad argument still reports its code, message, path and location', async () => {
    const { compiled } = await both(`{ releases(first: 1000) { totalCount } }`)
    expect(compiled.errors).toEqual([
      {
        message: 'first: must be between 0 and 100',
        locations: [{ line: 1, column: 3 }],
        path: ['releases'],
      },
    ])
    const http = await fx.api.gql(`{ releases(first: 1000) { totalCount } }`)
    expect(http.body.errors).toEqual([
      {
        message: 'first: must be between 0 and 100',
        locations: [{ line: 1, column: 3 }],
        path: ['releases'],
        extensions: { code: 'BAD_USER_INPUT' },
      },
    ])
  })

  it('keeps variable coercion as graphql-js does it: status 400, BAD_USER_INPUT, no data', async () => {
    const r = await fx.api.gql(`query($id: Int!) { release(discogsId: $id) { title } }`, { id: 'one' })
    expect(r.status).toBe(400)
    expect(r.body.data).toBeUndefined()
    expect(r.body.errors).toEqual([
      {
        message: 'Variable "$id" got invalid value "one"; Int cannot represent non-integer value: "one"',
        locations: [{ line: 1, column: 7 }],
        extensions: { code: 'BAD_USER_INPUT' },
      },
    ])
  })

  it('compiles each operation once, keeps at most cacheSize, and falls back to graphql-js for subscriptions', async () => {
    const jit = new JitExecutor({ cacheSize: 2 })
    const q = (n: number) => `{ release(discogsId: 1) { title t${n}: year } }`
    for (const n of [1, 1, 2, 3]) {
      const { compiled, reference } = await both(q(n), {}, jit)
      expect(compiled).toEqual(reference)
    }
    expect(jit.cachedOperations).toBe(2)
    const sub = await both(`subscription { jobProgress(id: "nope") { id } }`, {}, jit)
    expect(sub.compiled).toEqual(sub.reference)
    expect(jit.cachedOperations).toBe(2)
  })

  it('serves the same data over HTTP as graphql-js computes', async () => {
    const query = QUERIES[1][1]
    const r = await fx.api.gql(query, QUERIES[1][2])
    const { reference } = await both(query, QUERIES[1][2])
    expect(r.body).toEqual(reference)
  })
})
