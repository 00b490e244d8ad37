import fs from 'node:fs'
import type { GraphQLResolveInfo } from 'graphql'
import { decodeCursor, encodeOpaque } from '../api/cursor.ts'
import { fromGlobalId, numericKey, toGlobalId, type NodeType } from '../api/global-id.ts'
import type { Loaders } from '../api/loaders.ts'
import { perSelection, selectedFields, unreadFields, type Selection } from '../api/lookahead.ts'
import { parsePage, toConnection, type PageArgs } from '../api/pagination.ts'
import { BadInputError } from '../errors.ts'
import type { AuthService, Viewer } from '../services/auth.service.ts'
import {
  checkReleaseFilter,
  childList,
  type ArtistRole,
  type CatalogService,
  type ChildList,
  type ChildTable,
  type ReleaseFilter,
  type ReleaseParent,
  type Row,
} from '../services/catalog.service.ts'
import type { SearchService, SearchType } from '../services/search.service.ts'
import { connectionFromList, connectionResolvers } from './connection.ts'

export interface CatalogContext {
  viewer: Viewer
  auth: AuthService
  /** the request's loaders, over `catalog` */
  loaders: Loaders
  catalog: CatalogService
  search: SearchService
}

const schemaFile = (name: string) => fs.readFileSync(new URL(`../schema/${name}`, import.meta.url), 'utf8')
export const baseTypeDefs = schemaFile('base.graphql')
export const catalogTypeDefs = schemaFile('catalog.graphql')

type Args = PageArgs & { filter?: ReleaseFilter | null }
type Tag = { __typename: 'Style' | 'Genre'; name: string }

const ord = (r: Row) => Number(r.ord)
const num = (v: unknown) => (v == null ? null : Number(v))

/**
 * A field whose value is a child table's rows; `ref`, where its selection picks the fields of the row each
 * child links to (a credit's artist, a release label's label).
 */
interface ListField {
  table: ChildTable
  ref?: readonly string[]
}

/** The list fields of Release. */
const RELEASE_LISTS = {
  artists: { table: 'release_artist', ref: ['artist'] },
  credits: { table: 'release_credit', ref: ['edges', 'node', 'artist'] },
  labels: { table: 'release_label', ref: ['label'] },
  series: { table: 'release_series', ref: ['label'] },
  formats: { table: 'release_format' },
  identifiers: { table: 'release_identifier' },
  companies: { table: 'release_company', ref: ['label'] },
  videos: { table: 'release_video' },
  genres: { table: 'release_genre' },
  styles: { table: 'release_style' },
  tracks: { table: 'track' },
} as const satisfies Record<string, ListField>

/** A list field's rows as read, their linked rows without the keys no one reads (see unreadFields), `path` below the resolved field. */
function listAt(info: Selection, path: readonly string[], field: ListField): ChildList {
  return childList(field.table, field.ref && unreadFields(info, [...path, ...field.ref]))
}

/** Per list field with a `ref`, its list as its resolver reads it. */
const refListOf = (field: ListField) => perSelection((info) => listAt(info, [], field))

const releaseArtists = refListOf(RELEASE_LISTS.artists)
const releaseCredits = refListOf(RELEASE_LISTS.credits)
const releaseLabels = refListOf(RELEASE_LISTS.labels)
const releaseSeries = refListOf(RELEASE_LISTS.series)
const releaseCompanies = refListOf(RELEASE_LISTS.companies)
const masterArtists = refListOf({ table: 'master_artist', ref: ['artist'] })
const trackArtists = refListOf({ table: 'track_artist', ref: ['artist'] })
const trackCredits = refListOf({ table: 'track_credit', ref: ['edges', 'node', 'artist'] })

/**
 * The child lists the selection reads of the releases at `path` below the resolved field, as their
 * resolvers will ask for them: read in the statement that reads the releases, a release and its lists cost
 * one round trip instead of two.
 */
function releaseListsAt(path: readonly string[]) {
  return perSelection((info) => {
    const fields = selectedFields(info, path)
    return Object.entries(RELEASE_LISTS)
      .filter(([name]) => fields.has(name))
      .map(([name, field]) => listAt(info, [...path, name], field))
  })
}

const releaseLists = releaseListsAt([])
const releaseNodeLists = releaseListsAt(['edges', 'node'])

/** A page of releases hanging off `parent` (or the root list), batched with every sibling's page. */
function releaseConnection(
  ctx: CatalogContext,
  parent: ReleaseParent,
  parentKey: number | string,
  args: Args,
  info: GraphQLResolveInfo,
) {
  const filter = checkReleaseFilter(args.filter)
  const page = parsePage(args)
  return ctx.loaders.releasePage
    .load({ parent: parentKey, args: { parent, filter, page, lists: releaseNodeLists(info) } })
    .then((rows) =>
      toConnection(
        rows,
        (r) => Number(r.id),
        page,
        () => ctx.loaders.releaseCount.load({ parent: parentKey, args: { parent, filter } }),
      ),
    )
}

function tags(rows: Row[], typename: 'Style' | 'Genre'): Tag[] {
  const field = typename === 'Style' ? 'style' : 'genre'
  return rows.map((r) => ({ __typename: typename, name: String(r[field]) }))
}

function releaseLabelsOf(rows: Row[]) {
  return rows.map((l) => ({ name: l.name, catalogNumber: l.catno, label: l.ref }))
}

function videos(rows: Row[]) {
  return rows.map((r) => ({
    url: r.src,
    durationSeconds: r.durationS,
    embed: r.embed,
    title: r.title,
    description: r.description,
  }))
}

const artistRef = (ctx: CatalogContext, id: unknown) =>
  id != null && Number(id) > 0 ? ctx.loaders.artist.load(Number(id)) : null
const labelRef = (ctx: CatalogContext, id: unknown) =>
  id != null && Number(id) > 0 ? ctx.loaders.label.load(Number(id)) : null

function references(rows: Row[], idField: string, nameField: string) {
  return rows.map((r) => ({ ord: Number(r.ord), artistId: r[idField], name: r[nameField] }))
}

async function loadNode(ctx: CatalogContext, id: string) {
  const { type, key } = fromGlobalId(id)
  const typed = (row: Row | null, t: NodeType) => (row ? { ...row, __typename: t } : null)
  switch (type) {
    case 'Style':
    case 'Genre':
      return (await ctx.loaders.tagCount.load({ parent: key, args: type === 'Style' ? 'style' : 'genre' })) >
        0
        ? { __typename: type, name: key }
        : null
    default: {
      const loader = {
        Artist: ctx.loaders.artist,
        Label: ctx.loaders.label,
        Master: ctx.loaders.master,
        Release: ctx.loaders.release,
        Track: ctx.loaders.track,
      }[type]
      return typed(await loader.load(numericKey(id, type)), type)
    }
  }
}

const TYPENAME: Record<SearchType, NodeType> = {
  ARTIST: 'Artist',
  LABEL: 'Label',
  MASTER: 'Master',
  RELEASE: 'Release',
  TRACK: 'Track',
}

function searchOffset(after: string | null | undefined): number {
  if (after == null) return 0
  return Number(decodeCursor(after, /^o:(\d+)$/, 'after', 'search')[0])
}

export const catalogResolvers = {
  Node: {
    __resolveType: (obj: { __typename: string }) => obj.__typename,
  },
  SearchResult: {
    __resolveType: (obj: { __typename: string }) => obj.__typename,
  },
  Query: {
    node: (_: unknown, a: { id: string }, ctx: CatalogContext) => {
      ctx.auth.assertCanRead(ctx.viewer)
      return loadNode(ctx, a.id)
    },
    nodes: (_: unknown, a: { ids: string[] }, ctx: CatalogContext) => {
      ctx.auth.assertCanRead(ctx.viewer)
      if (a.ids.length > 100) throw new BadInputError('at most 100 ids at once', 'ids')
      return a.ids.map((id) => loadNode(ctx, id))
    },
    artist: (_: unknown, a: { discogsId: number }, ctx: CatalogContext) => (
      ctx.auth.assertCanRead(ctx.viewer),
      ctx.loaders.artist.load(a.discogsId)
    ),
    label: (_: unknown, a: { discogsId: number }, ctx: CatalogContext) => (
      ctx.auth.assertCanRead(ctx.viewer),
      ctx.loaders.label.load(a.discogsId)
    ),
    master: (_: unknown, a: { discogsId: number }, ctx: CatalogContext) => (
      ctx.auth.assertCanRead(ctx.viewer),
      ctx.loaders.master.load(a.discogsId)
    ),
    release: (_: unknown, a: { discogsId: number }, ctx: CatalogContext, info: GraphQLResolveInfo) => {
      ctx.auth.assertCanRead(ctx.viewer)
      return ctx.loaders.releaseWithLists.load({ parent: a.discogsId, args: releaseLists(info) })
    },
    track: (_: unknown, a: { id: string }, ctx: CatalogContext) => (
      ctx.auth.assertCanRead(ctx.viewer),
      ctx.loaders.track.load(numericKey(a.id, 'Track'))
    ),
    releases: (_: unknown, a: Args, ctx: CatalogContext, info: GraphQLResolveInfo) => {
      ctx.auth.assertCanRead(ctx.viewer)
      return releaseConnection(ctx, null, 0, a, info)
    },
    styles: async (_: unknown, __: unknown, ctx: CatalogContext) => {
      ctx.auth.assertCanRead(ctx.viewer)
      return (await ctx.catalog.tags('style')).map((t) => ({
        __typename: 'Style',
        name: t.name,
        releaseCount: t.releases,
      }))
    },
    genres: async (_: unknown, __: unknown, ctx: CatalogContext) => {
      ctx.auth.assertCanRead(ctx.viewer)
      return (await ctx.catalog.tags('genre')).map((t) => ({
        __typename: 'Genre',
        name: t.name,
        releaseCount: t.releases,
      }))
    },
    search: async (
      _: unknown,
      a: { query: string; types?: SearchType[] | null; first: number; after?: string | null },
      ctx: CatalogContext,
    ) => {
      ctx.auth.assertCanRead(ctx.viewer)
      const offset = searchOffset(a.after)
      const { hits, hasNextPage } = await ctx.search.page({
        query: a.query,
        types: a.types,
        first: a.first,
        offset,
      })
      const edges = await Promise.all(
        hits.map(async (h, i) => {
          const loader = {
            ARTIST: ctx.loaders.artist,
            LABEL: ctx.loaders.label,
            MASTER: ctx.loaders.master,
            RELEASE: ctx.loaders.release,
            TRACK: ctx.loaders.track,
          }[h.type]
          const row = await loader.load(h.id)
          return {
            cursor: encodeOpaque(`o:${offset + i + 1}`),
            score: h.score,
            text: h.text,
            node: { ...row, __typename: TYPENAME[h.type] },
          }
        }),
      )
      return {
        edges,
        pageInfo: {
          hasNextPage,
          hasPreviousPage: offset > 0,
          startCursor: edges[0]?.cursor ?? null,
          endCursor: edges.at(-1)?.cursor ?? null,
        },
      }
    },
  },
  CreditConnection: connectionResolvers,
  ArtistReferenceConnection: connectionResolvers,
  LabelConnection: connectionResolvers,
  ReleaseConnection: connectionResolvers,
  TrackConnection: connectionResolvers,
  Credit: {
    // Credits come with their artist row joined (`ref`); null there means unlinked or not in the catalog.
    artist: (r: Row) => r.ref,
    join: (r: Row) => r.joinString,
  },
  ArtistReference: {
    artist: (r: Row, _: unknown, ctx: CatalogContext) => artistRef(ctx, r.artistId),
  },
  Artist: {
    id: (r: Row) => toGlobalId('Artist', Number(r.id)),
    discogsId: (r: Row) => r.id,
    aliases: (r: Row, a: PageArgs, ctx: CatalogContext) =>
      ctx.loaders
        .children('artist_alias')
        .read(Number(r.id), (l) => connectionFromList(references(l, 'aliasId', 'aliasName'), ord, a)),
    members: (r: Row, a: PageArgs, ctx: CatalogContext) =>
      ctx.loaders
        .children('artist_member')
        .read(Number(r.id), (l) => connectionFromList(references(l, 'memberId', 'memberName'), ord, a)),
    groups: (r: Row, a: PageArgs, ctx: CatalogContext) =>
      ctx.loaders
        .children('artist_group')
        .read(Number(r.id), (l) => connectionFromList(references(l, 'groupId', 'groupName'), ord, a)),
    releases: (r: Row, a: Args & { role: ArtistRole }, ctx: CatalogContext, info: GraphQLResolveInfo) =>
      releaseConnection(ctx, { kind: 'artist', role: a.role }, Number(r.id), a, info),
    tracks: async (r: Row, a: PageArgs, ctx: CatalogContext) => {
      const page = parsePage(a)
      const rows = await ctx.loaders.artistTrackPage.load({ parent: Number(r.id), args: page })
      return toConnection(
        rows,
        (t) => Number(t.id),
        page,
        () => ctx.loaders.artistTrackCount.load(Number(r.id)),
      )
    },
  },
  Label: {
    id: (r: Row) => toGlobalId('Label', Number(r.id)),
    discogsId: (r: Row) => r.id,
    parentLabel: (r: Row, _: unknown, ctx: CatalogContext) => labelRef(ctx, r.parentId),
    sublabels: async (r: Row, a: PageArgs, ctx: CatalogContext) =>
      connectionFromList(await ctx.loaders.sublabels.load(Number(r.id)), (l) => Number(l.id), a),
    releases: (
      r: Row,
      a: Args & { includeSublabels: boolean },
      ctx: CatalogContext,
      info: GraphQLResolveInfo,
    ) =>
      releaseConnection(
        ctx,
        { kind: 'label', includeSublabels: !!a.includeSublabels },
        Number(r.id),
        a,
        info,
      ),
  },
  Master: {
    id: (r: Row) => toGlobalId('Master', Number(r.id)),
    discogsId: (r: Row) => r.id,
    mainRelease: (r: Row, _: unknown, ctx: CatalogContext) =>
      r.mainReleaseId ? ctx.loaders.release.load(Number(r.mainReleaseId)) : null,
    genres: (r: Row, _: unknown, ctx: CatalogContext) =>
      ctx.loaders.children('master_genre').read(Number(r.id), (l) => tags(l, 'Genre')),
    styles: (r: Row, _: unknown, ctx: CatalogContext) =>
      ctx.loaders.children('master_style').read(Number(r.id), (l) => tags(l, 'Style')),
    artists: (r: Row, _: unknown, ctx: CatalogContext, info: GraphQLResolveInfo) =>
      ctx.loaders.list(masterArtists(info)).rows(Number(r.id)),
    videos: (r: Row, _: unknown, ctx: CatalogContext) =>
      ctx.loaders.children('master_video').read(Number(r.id), videos),
    versions: (r: Row, a: Args, ctx: CatalogContext, info: GraphQLResolveInfo) =>
      releaseConnection(ctx, { kind: 'master' }, Number(r.id), a, info),
  },
  Release: {
    id: (r: Row) => toGlobalId('Release', Number(r.id)),
    discogsId: (r: Row) => r.id,
    master: (r: Row, _: unknown, ctx: CatalogContext) =>
      r.masterId ? ctx.loaders.master.load(Number(r.masterId)) : null,
    genres: (r: Row, _: unknown, ctx: CatalogContext) =>
      ctx.loaders.children(RELEASE_LISTS.genres.table).read(Number(r.id), (l) => tags(l, 'Genre')),
    styles: (r: Row, _: unknown, ctx: CatalogContext) =>
      ctx.loaders.children(RELEASE_LISTS.styles.table).read(Number(r.id), (l) => tags(l, 'Style')),
    formats: (r: Row, _: unknown, ctx: CatalogContext) =>
      ctx.loaders
        .children(RELEASE_LISTS.formats.table)
        .read(Number(r.id), (l) => l.map((f) => ({ ...f, quantity: f.qty }))),
    labels: (r: Row, _: unknown, ctx: CatalogContext, info: GraphQLResolveInfo) =>
      ctx.loaders.list(releaseLabels(info)).read(Number(r.id), releaseLabelsOf),
    series: (r: Row, _: unknown, ctx: CatalogContext, info: GraphQLResolveInfo) =>
      ctx.loaders.list(releaseSeries(info)).read(Number(r.id), releaseLabelsOf),
    identifiers: (r: Row, _: unknown, ctx: CatalogContext) =>
      ctx.loaders.children(RELEASE_LISTS.identifiers.table).rows(Number(r.id)),
    companies: (r: Row, _: unknown, ctx: CatalogContext, info: GraphQLResolveInfo) =>
      ctx.loaders
        .list(releaseCompanies(info))
        .read(Number(r.id), (l) => l.map((c) => ({ ...c, catalogNumber: c.catno, label: c.ref }))),
    videos: (r: Row, _: unknown, ctx: CatalogContext) =>
      ctx.loaders.children(RELEASE_LISTS.videos.table).read(Number(r.id), videos),
    artists: (r: Row, _: unknown, ctx: CatalogContext, info: GraphQLResolveInfo) =>
      ctx.loaders.list(releaseArtists(info)).rows(Number(r.id)),
    credits: (r: Row, a: PageArgs, ctx: CatalogContext, info: GraphQLResolveInfo) =>
      ctx.loaders.list(releaseCredits(info)).read(Number(r.id), (l) => connectionFromList(l, ord, a)),
    tracks: (r: Row, a: PageArgs, ctx: CatalogContext) =>
      ctx.loaders.children(RELEASE_LISTS.tracks.table).read(Number(r.id), (l) =>
        connectionFromList(
          l.filter((t) => t.parentId == null),
          (t) => Number(t.sequence),
          a,
        ),
      ),
  },
  Track: {
    id: (r: Row) => toGlobalId('Track', Number(r.id)),
    release: (r: Row, _: unknown, ctx: CatalogContext) => ctx.loaders.release.load(Number(r.releaseId)),
    duration: (r: Row) => num(r.durationS),
    parent: (r: Row, _: unknown, ctx: CatalogContext) =>
      r.parentId != null ? ctx.loaders.track.load(Number(r.parentId)) : null,
    subTracks: (r: Row, _: unknown, ctx: CatalogContext) =>
      ctx.loaders
        .children(RELEASE_LISTS.tracks.table)
        .read(Number(r.releaseId), (l) =>
          l.filter((t) => t.parentId != null && Number(t.parentId) === Number(r.id)),
        ),
    artists: (r: Row, _: unknown, ctx: CatalogContext, info: GraphQLResolveInfo) =>
      ctx.loaders.list(trackArtists(info)).rows(Number(r.id)),
    credits: (r: Row, a: PageArgs, ctx: CatalogContext, info: GraphQLResolveInfo) =>
      ctx.loaders.list(trackCredits(info)).read(Number(r.id), (l) => connectionFromList(l, ord, a)),
  },
  Style: {
    id: (t: Tag) => toGlobalId('Style', t.name),
    releaseCount: (t: Tag & { releaseCount?: number }, _: unknown, ctx: CatalogContext) =>
      t.releaseCount ?? ctx.loaders.tagCount.load({ parent: t.name, args: 'style' }),
    releases: (t: Tag, a: Args, ctx: CatalogContext, info: GraphQLResolveInfo) =>
      releaseConnection(ctx, { kind: 'style' }, t.name, a, info),
  },
  Genre: {
    id: (t: Tag) => toGlobalId('Genre', t.name),
    releaseCount: (t: Tag & { releaseCount?: number }, _: unknown, ctx: CatalogContext) =>
      t.releaseCount ?? ctx.loaders.tagCount.load({ parent: t.name, args: 'genre' }),
    releases: (t: Tag, a: Args, ctx: CatalogContext, info: GraphQLResolveInfo) =>
      releaseConnection(ctx, { kind: 'genre' }, t.name, a, info),
  },
}
