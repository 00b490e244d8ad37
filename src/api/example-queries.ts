import type { CatalogService } from '../services/catalog.service.ts'

/** The catalog's first release, its first artist and style (CatalogService.exampleRelease). */
export type CatalogExample = NonNullable<Awaited<ReturnType<CatalogService['exampleRelease']>>>

/**
 * Example queries that find something in this catalog: they name its first release, that release's artist
 * and style (on a real dump: release 1, "Stockholm" by The Persuader, Deep House; on the demo's synthetic
 * catalog, its own), where fixed names would answer nothing on any catalog but one. Printed by `serve`
 * and offered by GraphiQL.
 */
export function exampleQueries(example: CatalogExample | null): string[] {
  const page = (filter: string) =>
    `{ releases(${filter}first: 5) { totalCount edges { node { title country year } } } }`
  if (!example) return [page('')]
  return [
    ...(example.artist
      ? [
          `{ search(query: ${JSON.stringify(example.artist)}, first: 5) { edges { score node { __typename ... on Artist { name } ... on Release { title } } } } }`,
        ]
      : []),
    `{ release(discogsId: ${example.id}) { title year artists { name } tracks { edges { node { position title duration } } } } }`,
    page(example.style ? `filter: { styles: [${JSON.stringify(example.style)}] }, ` : ''),
  ]
}

/**
 * GraphiQL's opening query: the catalog's first release with what hangs off it, and pointers to the rest.
 * `'key-only'`: reading needs a key (READ_ACCESS=key), so the page, open to all, names nothing of the catalog.
 */
export function graphiqlDefaultQuery(example: CatalogExample | null | 'key-only'): string {
  const style =
    example && example !== 'key-only' && example.style ? JSON.stringify(example.style) : '"Deep House"'
  const head = `# Discograph: the Discogs catalog and learned audio embeddings.
# Try: search(query: ...), releases(filter: {styles: [${style}]}), similarTracks, node(id: ...).
`
  if (example === 'key-only')
    return `${head}# Reading needs an API key here: add {"Authorization": "Bearer dg_..."} under Headers below.
{
  releases(first: 5) { totalCount edges { node { title year } } }
}
`
  if (!example)
    return `${head}# The catalog is empty: import a dump (discograph ingest discogs) or run the demo.
{
  releases(first: 5) { totalCount edges { node { title year } } }
}
`
  return `${head}{
  release(discogsId: ${example.id}) {
    title
    year
    artists { name }
    labels { name catalogNumber }
    styles { name }
    tracks { edges { node { position title duration } } }
  }
}
`
}
