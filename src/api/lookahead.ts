import type { FieldNode, GraphQLResolveInfo, SelectionSetNode } from 'graphql'

type Selection = Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>

/** Per field-node list, per path: graphql-jit hands the same list to every execution of a compiled query. */
const cache = new WeakMap<readonly FieldNode[], Map<string, ReadonlySet<string>>>()

/** Adds the names of the fields `set` selects, looking through fragments whatever their type condition. */
function addFields(set: SelectionSetNode | undefined, info: Selection, out: FieldNode[]): void {
  for (const s of set?.selections ?? []) {
    if (s.kind === 'Field') out.push(s)
    else if (s.kind === 'InlineFragment') addFields(s.selectionSet, info, out)
    else addFields(info.fragments[s.name.value]?.selectionSet, info, out)
  }
}

function subfields(nodes: readonly FieldNode[], info: Selection): FieldNode[] {
  const out: FieldNode[] = []
  for (const node of nodes) addFields(node.selectionSet, info, out)
  return out
}

/**
 * The names of the fields a resolver's selection asks for `path` below it (`['edges', 'node']`: a
 * connection's nodes), to read ahead what the rest of the query will load. A superset: fragments of any
 * type condition count, and @skip / @include are not evaluated, so reading more than needed is the only
 * possible mistake.
 */
export function selectedFields(info: Selection, path: readonly string[] = []): ReadonlySet<string> {
  const key = path.join('.')
  let byPath = cache.get(info.fieldNodes)
  const hit = byPath?.get(key)
  if (hit) return hit
  let level: readonly FieldNode[] = info.fieldNodes
  for (const name of path) level = subfields(level, info).filter((f) => f.name.value === name)
  const names = new Set(subfields(level, info).map((f) => f.name.value))
  if (!byPath) cache.set(info.fieldNodes, (byPath = new Map()))
  byPath.set(key, names)
  return names
}
