import 'reflect-metadata'
import { describe, expect, it } from 'vitest'
import { toGlobalId } from '../../src/api/global-id.ts'
import { CatalogReadRepository } from '../../src/db/repositories/catalog-read.repository.ts'
import { childList } from '../../src/db/repositories/catalog-child-lists.ts'
import { AuthService } from '../../src/services/auth.service.ts'
import { useFixtureApi } from '../support/api.ts'
import { createEmbeddedTestDatabase, createServerTestDatabase } from '../support/database.ts'

describe('GraphQL API over HTTP (real server, fixture dumps)', () => {
  const fx = useFixtureApi(createServerTestDatabase)
  const sql = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
    (await fx.t.db.pool.query(text, params)).rows as T[]
  const data = (query: string, variables?: Record<string, unknown>) => fx.api.data(query, variables)

  it('looks up release 1 with its artists, label, style, format and tracklist', async () => {
    const d = await data(`{ release(discogsId: 1) {
      id discogsId title year released country isMainRelease
      master { discogsId } artists { name artist { discogsId name } }
      labels { name catalogNumber label { discogsId } } styles { name } genres { name }
      formats { name quantity descriptions }
      tracks { totalCount edges { node { position title duration type } } } } }`)
    const r = d.release
    expect(r).toMatchObject({
      id: toGlobalId('Release', 1),
      discogsId: 1,
      title: 'Stockholm',
      year: 1999,
      released: '1999-03-00',
      country: 'Sweden',
    })
    expect(r.artists).toEqual([{ name: 'The Persuader', artist: { discogsId: 1, name: 'The Persuader' } }])
    expect(r.labels).toEqual([{ name: 'Svek', catalogNumber: 'SK032', label: { discogsId: 5 } }])
    expect(r.styles).toEqual([{ name: 'Deep House' }])
    expect(r.genres).toEqual([{ name: 'Electronic' }])
    expect(r.formats[0]).toMatchObject({ name: 'Vinyl', quantity: '2' })
    expect(r.tracks.totalCount).toBe(6)
    expect(
      r.tracks.edges.map((e: { node: { position: string; duration: number } }) => [
        e.node.position,
        e.node.duration,
      ]),
    ).toEqual([
      ['A', 285],
      ['B1', 371],
      ['B2', 169],
      ['C1', 338],
      ['C2', 292],
      ['D', 316],
    ])
  })

  it('resolves global ids with node and nodes, in order, null for unknown ids', async () => {
    const [track] = await sql<{ id: string }>(
      `SELECT id FROM track WHERE release_id = 1 ORDER BY sequence LIMIT 1`,
    )
    const ids = [
      toGlobalId('Artist', 1),
      toGlobalId('Release', 999_999_999),
      toGlobalId('Track', Number(track.id)),
      toGlobalId('Style', 'Deep House'),
    ]
    const d = await data(
      `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on Artist { name } ... on Track { title release { title } } ... on Style { name releaseCount } } }`,
      { ids },
    )
    expect(d.nodes[0]).toEqual({ __typename: 'Artist', id: ids[0], name: 'The Persuader' })
    expect(d.nodes[1]).toBeNull()
    expect(d.nodes[2]).toMatchObject({
      __typename: 'Track',
      title: 'Östermalm',
      release: { title: 'Stockholm' },
    })
    const [{ n }] = await sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM release_style WHERE style = 'Deep House'`,
    )
    expect(d.nodes[3]).toMatchObject({ __typename: 'Style', name: 'Deep House', releaseCount: n })
  })

  it('pages forwards and backwards through the same list with consistent cursors and totalCount', async () => {
    const filter = { styles: ['Deep House'] }
    const forward: number[] = []
    let after: string | null = null
    let total = 0
    for (;;) {
      const d = await data(
        `query($f: ReleaseFilter, $after: String) { releases(filter: $f, first: 7, after: $after) { totalCount edges { node { discogsId } } pageInfo { hasNextPage hasPreviousPage endCursor } } }`,
        { f: filter, after },
      )
      total = d.releases.totalCount
      forward.push(...d.releases.edges.map((e: { node: { discogsId: number } }) => e.node.discogsId))
      expect(d.releases.pageInfo.hasPreviousPage).toBe(after !== null)
      if (!d.releases.pageInfo.hasNextPage) break
      after = d.releases.pageInfo.endCursor
    }
    const backward: number[] = []
    let before: string | null = null
    for (;;) {
      const d = await data(
        `query($f: ReleaseFilter, $before: String) { releases(filter: $f, last: 7, before: $before) { edges { node { discogsId } } pageInfo { hasPreviousPage startCursor } } }`,
        { f: filter, before },
      )
      backward.unshift(...d.releases.edges.map((e: { node: { discogsId: number } }) => e.node.discogsId))
      if (!d.releases.pageInfo.hasPreviousPage) break
      before = d.releases.pageInfo.startCursor
    }
    const truth = (
      await sql<{ release_id: number }>(
        `SELECT release_id FROM release_style WHERE style = 'Deep House' ORDER BY release_id`,
      )
    ).map((r) => r.release_id)
    expect(truth.length).toBeGreaterThan(14)
    expect(forward).toEqual(truth)
    expect(backward).toEqual(truth)
    expect(total).toBe(truth.length)
  })

  it('ranks search hits: exact title first, typos tolerated, types filtered, paged', async () => {
    const exact = await data(
      `{ search(query: "Stockholm", first: 3) { edges { score node { __typename ... on Release { discogsId } } } } }`,
    )
    expect(exact.search.edges[0]).toEqual({ score: 1, node: { __typename: 'Release', discogsId: 1 } })
    const scores = exact.search.edges.map((e: { score: number }) => e.score)
    expect([...scores].sort((a, b) => b - a)).toEqual(scores)
    const typo = await data(
      `{ search(query: "persuadr", types: [ARTIST], first: 3) { edges { score node { __typename ... on Artist { name } } } } }`,
    )
    expect(typo.search.edges[0].node).toEqual({ __typename: 'Artist', name: 'The Persuader' })
    expect(
      typo.search.edges.every((e: { node: { __typename: string } }) => e.node.__typename === 'Artist'),
    ).toBe(true)
    const p1 = await data(
      `{ search(query: "love", first: 3) { edges { node { __typename } } pageInfo { hasNextPage endCursor } } }`,
    )
    expect(p1.search.pageInfo.hasNextPage).toBe(true)
    const all = await data(
      `{ search(query: "love", first: 6) { edges { score node { __typename ... on Track { id } ... on Release { id } ... on Artist { id } ... on Label { id } ... on Master { id } } } } }`,
    )
    const p2 = await data(
      `query($after: String) { search(query: "love", first: 3, after: $after) { edges { score node { __typename ... on Track { id } ... on Release { id } ... on Artist { id } ... on Label { id } ... on Master { id } } } } }`,
      { after: p1.search.pageInfo.endCursor },
    )
    expect(p2.search.edges).toEqual(all.search.edges.slice(3))
  })

  it('filters releases by year range, country, label with sublabels, format and artist role', async () => {
    const ids = async (filter: Record<string, unknown>) =>
      (
        await data(
          `query($f: ReleaseFilter) { releases(filter: $f, first: 100) { totalCount edges { node { discogsId } } } }`,
          { f: filter },
        )
      ).releases.edges.map((e: { node: { discogsId: number } }) => e.node.discogsId)
    const truth = async (where: string, params: unknown[] = []) =>
      (
        await sql<{ id: number }>(`SELECT id FROM release r WHERE ${where} ORDER BY id LIMIT 100`, params)
      ).map((r) => r.id)
    expect(await ids({ yearFrom: 1995, yearTo: 1998, countries: ['UK', 'US'] })).toEqual(
      await truth(`year BETWEEN 1995 AND 1998 AND country IN ('UK', 'US')`),
    )
    expect(await ids({ format: 'CD' })).toEqual(
      await truth(
        `EXISTS (SELECT 1 FROM release_format f WHERE f.release_id = r.id AND (f.name = 'CD' OR 'CD' = ANY(f.descriptions)))`,
      ),
    )
    // MAIN: the release's main artists, or a track's (compilations credit artists per track).
    expect(await ids({ artistId: 1, artistRole: 'MAIN' })).toEqual(
      await truth(
        `id IN (SELECT release_id FROM release_artist WHERE artist_id = 1 UNION SELECT t.release_id FROM track_artist ta JOIN track t ON t.id = ta.track_id WHERE ta.artist_id = 1)`,
      ),
    )
    // A parent label with a sublabel in the fixtures: its releases with sublabels ⊇ without.
    const [pair] = await sql<{ parent: number }>(
      `SELECT l.parent_id AS parent FROM label l JOIN release_label rl ON rl.label_id = l.id WHERE l.parent_id IS NOT NULL GROUP BY l.parent_id ORDER BY count(*) DESC LIMIT 1`,
    )
    expect(pair, 'fixture has a sublabel with releases').toBeDefined()
    const own = await ids({ labelId: pair.parent })
    const withSubs = await ids({ labelId: pair.parent, includeSublabels: true })
    expect(withSubs.length).toBeGreaterThan(own.length)
    expect(withSubs).toEqual(
      await truth(
        `id IN (SELECT release_id FROM release_label WHERE label_id IN (WITH RECURSIVE s(id) AS (SELECT $1::int UNION SELECT l.id FROM label l JOIN s ON l.parent_id = s.id) SELECT id FROM s))`,
        [pair.parent],
      ),
    )
    const d = await data(
      `{ artist(discogsId: 1) { name releases(role: MAIN, first: 5) { totalCount edges { node { title } } } tracks(first: 3) { totalCount edges { node { title } } } } }`,
    )
    expect(d.artist.releases.edges[0].node.title).toBe('Stockholm')
    expect(d.artist.tracks.totalCount).toBeGreaterThanOrEqual(6)
  })

  it('answers 50 releases with artists, labels, styles and tracks in a bounded number of SQL statements, whatever the page size', async () => {
    const query = `query($n: Int) { releases(first: $n) { edges { node { title artists { name artist { name } } labels { catalogNumber label { name parentLabel { name } } } styles { name } tracks(first: 50) { edges { node { title artists { name } subTracks { title } } } } } } } }`
    const counts: number[] = []
    for (const n of [5, 50]) {
      const r = await fx.api.gql(query, { n })
      expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined()
      expect(r.body.data.releases.edges).toHaveLength(n)
      counts.push(Number(r.headers.get('x-sql-statements')))
    }
    expect(counts[1]).toBe(counts[0])
    expect(counts[1]).toBeLessThanOrEqual(3)
  })

  it('reads releases with the lists their selection asks for in one statement, answering as the list-by-list reads do', async () => {
    // `node` reads the release row, then its lists: the reference. Release 1 has no series: an empty list.
    const fields = `title artists { name artist { name } } labels { catalogNumber label { name } } styles { name } series { name } videos { url }
      tracks(first: 100) { totalCount edges { node { position title duration subTracks { title } } } }`
    const one = await fx.api.gql(`{ release(discogsId: 1) { ${fields} } }`)
    const oneRef = await fx.api.gql(`query($id: ID!) { node(id: $id) { ... on Release { ${fields} } } }`, {
      id: toGlobalId('Release', 1),
    })
    expect(one.body.data.release.tracks.totalCount).toBe(6)
    expect(one.body.data.release).toEqual(oneRef.body.data.node)
    expect([one.headers.get('x-sql-statements'), oneRef.headers.get('x-sql-statements')]).toEqual(['1', '2'])

    const page = await fx.api.gql(
      `{ releases(first: 5) { edges { node { discogsId ...F } } } } fragment F on Release { ... on Release { ${fields} } }`,
    )
    const releases = page.body.data.releases.edges.map((e: { node: unknown }) => e.node)
    const ids = releases.map((r: { discogsId: number }) => toGlobalId('Release', r.discogsId))
    const pageRef = await fx.api.gql(
      `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Release { discogsId ${fields} } } }`,
      { ids },
    )
    expect(releases).toHaveLength(5)
    expect(releases).toEqual(pageRef.body.data.nodes)
    expect([page.headers.get('x-sql-statements'), pageRef.headers.get('x-sql-statements')]).toEqual([
      '1',
      '2',
    ])
  })

  it('leaves out of linked rows the fields no one selected, a list read for two selections keeping both apart', async () => {
    const artist = `discogsId name realName profile dataQuality urls nameVariations missingSinceDump`
    const label = `discogsId name contactInfo profile dataQuality urls missingSinceDump parentLabel { name }`
    const d = await data(
      `query($id: ID!) { release(discogsId: 1) { artists { artist { name } } labels { label { name } } }
        node(id: $id) { ... on Release { artists { artist { ${artist} } } labels { label { ${label} } } } }
        artist(discogsId: 1) { ${artist} } label(discogsId: 5) { ${label} } }`,
      { id: toGlobalId('Release', 1) },
    )
    expect(d.release).toEqual({
      artists: [{ artist: { name: 'The Persuader' } }],
      labels: [{ label: { name: 'Svek' } }],
    })
    expect(d.artist).toMatchObject({
      realName: 'Jesper Dahlbäck',
      nameVariations: ['Persuader', 'The Presuader'],
    })
    expect(d.node).toEqual({ artists: [{ artist: d.artist }], labels: [{ label: d.label }] })
    const repo = new CatalogReadRepository(fx.t.db.pool)
    const list = childList('release_artist', ['profile', 'urls'])
    const [row] = (await repo.childLists(new Map([[list, [1]]]))).get(list)!.get(1)!
    expect(Object.keys(row.ref as object).sort()).toEqual([
      'dataQuality',
      'id',
      'missingSinceDump',
      'name',
      'nameVariations',
      'realName',
    ])
  })

  it('refuses too-deep and too-complex queries before running them', async () => {
    let deep = 'title'
    for (let i = 0; i < 10; i++) deep = `master { mainRelease { ${deep} } }`
    const tooDeep = await fx.api.gql(`{ release(discogsId: 1) { ${deep} } }`)
    expect(tooDeep.status).toBe(400)
    expect(tooDeep.body.errors?.[0].extensions?.code).toBe('QUERY_TOO_DEEP')
    const tooComplex = await fx.api.gql(
      `{ releases(first: 100) { edges { node { tracks(first: 100) { edges { node { credits(first: 100) { edges { node { name } } } } } } } } } }`,
    )
    expect(tooComplex.status).toBe(400)
    expect(tooComplex.body.errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX')
    expect(tooComplex.headers.get('x-sql-statements')).toBe('0')
    const viaVariables = await fx.api.gql(
      `query($n: Int) { releases(first: $n) { edges { node { tracks(first: $n) { edges { node { credits(first: $n) { edges { node { name } } } } } } } } } }`,
      { n: 100 },
    )
    expect(viaVariables.body.errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX')
  })

  it('reports errors with codes: bad input, bad cursors, not found, unauthenticated, forbidden', async () => {
    const code = (r: { body: { errors?: { extensions?: { code?: string } }[] } }) =>
      r.body.errors?.[0]?.extensions?.code
    expect(code(await fx.api.gql(`{ releases(first: 1000) { totalCount } }`))).toBe('BAD_USER_INPUT')
    expect(code(await fx.api.gql(`{ releases(first: 1, after: "nonsense") { totalCount } }`))).toBe(
      'BAD_USER_INPUT',
    )
    expect(
      code(await fx.api.gql(`{ releases(filter: { yearFrom: 2000, yearTo: 1990 }) { totalCount } }`)),
    ).toBe('BAD_USER_INPUT')
    expect(code(await fx.api.gql(`{ search(query: "x") { edges { score } } }`))).toBe('BAD_USER_INPUT')
    // search results end at 1,000: a page past them is refused, the last page has no next
    const deep = (offset: number) => Buffer.from(`o:${offset}`).toString('base64url')
    const past = await fx.api.gql(
      `query($after: String) { search(query: "the", after: $after) { edges { score } } }`,
      { after: deep(1000) },
    )
    expect(code(past)).toBe('BAD_USER_INPUT')
    expect(past.body.errors?.[0]?.message).toMatch(/1000/)
    const last = await fx.api.gql(
      `query($after: String) { search(query: "the", first: 50, after: $after) { edges { cursor } pageInfo { hasNextPage } } }`,
      { after: deep(990) },
    )
    expect(last.body.data.search.edges.length).toBeLessThanOrEqual(10)
    expect(last.body.data.search.pageInfo.hasNextPage).toBe(false)
    expect(code(await fx.api.gql(`{ track(id: "${toGlobalId('Artist', 1)}") { title } }`))).toBe(
      'BAD_USER_INPUT',
    )
    expect(code(await fx.api.gql(`{ nope }`))).toBe('GRAPHQL_VALIDATION_FAILED')
    const auth = new AuthService(fx.t.db.pool, { publicRead: true })
    const admin = (await auth.createKey('test-admin', 'admin')).key
    const reader = (await auth.createKey('test-reader', 'reader')).key
    const mutation = `mutation { importDiscogs(files: ["/nonexistent"]) { id } }`
    expect(code(await fx.api.gql(mutation))).toBe('UNAUTHENTICATED')
    expect(code(await fx.api.gql(mutation, {}, { authorization: `Bearer ${reader}` }))).toBe('FORBIDDEN')
    const badKey = await fx.api.gql(`{ __typename }`, {}, { authorization: 'Bearer dg_not-a-key' })
    expect(badKey.status).toBe(401)
    expect(
      code(
        await fx.api.gql(
          `mutation { retryJob(id: "00000000-0000-0000-0000-000000000000") { id } }`,
          {},
          { authorization: `Bearer ${admin}` },
        ),
      ),
    ).toBe('NOT_FOUND')
  })

  it('serves GraphiQL offline, health, metrics; refuses CSRF-able and oversized requests', async () => {
    const page = await fetch(`${fx.api.url}/graphql`, { headers: { accept: 'text/html' } })
    const html = await page.text()
    expect(page.status).toBe(200)
    expect(html).toContain('GraphiQL')
    expect(html).toContain('release(discogsId: 1)') // the catalog's first release, here the fixture's
    expect(html).not.toMatch(/src="https?:\/\//)
    for (const asset of [...html.matchAll(/(?:src|href)="(\/vendor\/[^"]+)"/g)].map((m) => m[1])) {
      expect((await fetch(`${fx.api.url}${asset}`)).status, asset).toBe(200)
    }
    expect(await (await fetch(`${fx.api.url}/healthz`)).json()).toEqual({
      status: 'ok',
      database: 'server',
      migrations: 'current',
    })
    const metrics = await (await fetch(`${fx.api.url}/metrics`)).text()
    expect(metrics).toMatch(
      /discograph_http_requests_total\{route="graphql",method="POST",status="200"\} \d+/,
    )
    expect(metrics).toMatch(/discograph_db_pool_connections\{state="total"\}/)
    const csrf = await fetch(`${fx.api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{"query":"{ __typename }"}',
    })
    expect(csrf.status).toBe(400)
    const huge = await fetch(`${fx.api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ __typename }`, pad: 'x'.repeat(2_000_000) }),
    })
    expect(huge.status).toBe(413)
  })
})

describe('GraphQL API on the embedded database, with introspection off and key-only reading', () => {
  const fx = useFixtureApi(createEmbeddedTestDatabase, (t) => ({
    publicRead: false,
    graphql: { ...t.config.graphql, introspection: false },
  }))

  it('serves the same data to a reader key, refuses anonymous reading and introspection', async () => {
    const reader = (await new AuthService(fx.t.db.pool, { publicRead: false }).createKey('r', 'reader')).key
    const ok = await fx.api.gql(
      `{ release(discogsId: 1) { title labels { catalogNumber } } }`,
      {},
      { authorization: `Bearer ${reader}` },
    )
    expect(ok.body.data).toEqual({ release: { title: 'Stockholm', labels: [{ catalogNumber: 'SK032' }] } })
    const anon = await fx.api.gql(`{ release(discogsId: 1) { title } }`)
    expect(anon.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED')
    const intro = await fx.api.gql(
      `{ __schema { types { name } } }`,
      {},
      { authorization: `Bearer ${reader}` },
    )
    expect(intro.body.errors?.[0].message).toMatch(/introspection/i)
    expect(await (await fetch(`${fx.api.url}/healthz`)).json()).toMatchObject({
      status: 'ok',
      database: 'embedded',
    })
  })
})
