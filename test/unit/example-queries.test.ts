import { parse } from 'graphql'
import { describe, expect, it } from 'vitest'
import { exampleQueries, graphiqlDefaultQuery } from '../../src/api/example-queries.ts'
import { graphiqlPage } from '../../src/api/graphiql.ts'

describe('example queries', () => {
  const example = { id: 42, artist: 'Ann "A" O\'Hara', style: 'Deep House' }

  it('name the catalog’s release, artist and style, and parse as GraphQL', () => {
    const qs = exampleQueries(example)
    expect(qs).toHaveLength(3)
    expect(qs[0]).toContain('search(query: "Ann \\"A\\" O\'Hara"')
    expect(qs[1]).toContain('release(discogsId: 42)')
    expect(qs[2]).toContain('styles: ["Deep House"]')
    for (const q of [
      ...qs,
      ...exampleQueries(null),
      graphiqlDefaultQuery(example),
      graphiqlDefaultQuery(null),
    ])
      expect(() => parse(q)).not.toThrow()
    expect(graphiqlDefaultQuery(example)).toContain('release(discogsId: 42)')
    expect(graphiqlDefaultQuery(null)).toContain('releases(first: 5)')
    // reading needs a key: the page, open to all, names nothing of the catalog and says how to send a key
    expect(() => parse(graphiqlDefaultQuery('key-only'))).not.toThrow()
    expect(graphiqlDefaultQuery('key-only')).toMatch(
      /Reading needs an API key here: add \{"Authorization": "Bearer dg_\.\.\."\}/,
    )
    expect(graphiqlDefaultQuery('key-only')).not.toContain('discogsId')
  })

  it('GraphiQL’s page cannot be broken out of by catalog text', () => {
    const html = graphiqlPage(
      '/graphql',
      graphiqlDefaultQuery({ id: 1, artist: null, style: '</script><script>alert(1)</script>' }),
    )
    expect(html.match(/<\/script>/g)).toHaveLength(4) // the page's own four script elements
    expect(html).not.toContain('<script>alert(1)')
  })
})
