import {
  getNamedType,
  isLeafType,
  isObjectType,
  type FieldNode,
  type GraphQLNamedType,
  type GraphQLResolveInfo,
  type SelectionSetNode,
} from 'graphql'

/** What a lookahead reads of a resolver's info. */
export type Selection = Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments' | 'returnType'>

/**
 * `compute` memoised per field-node list: graphql-jit hands the same list to every execution of a compiled
 * query (and to every item of a list), so a lookahead costs one WeakMap read per resolver call.
 */
export function perSelection<T>(compute: (info: Selection) => T): (info: Selection) => T {
  const answers = new WeakMap<readonly FieldNode[], T>()
  return (info) => {
    let answer = answers.get(info.fieldNodes)
    if (answer === undefined) answers.set(info.fieldNodes, (answer = compute(info)))
    return answer
  }
}

/** Adds the fields `set` selects, looking through fragments whatever their type condition. */
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
  let level: readonly FieldNode[] = info.fieldNodes
  for (const name of path) level = subfields(level, info).filter((f) => f.name.value === name)
  return new Set(subfields(level, info).map((f) => f.name.value))
}

/** The type of the field at `path` below the resolved one, lists and non-null unwrapped. */
function typeAt(info: Selection, path: readonly string[]): GraphQLNamedType | undefined {
  let type: GraphQLNamedType | undefined = getNamedType(info.returnType)
  for (const name of path) type = isObjectType(type) ? getNamedType(type.getFields()[name]?.type) : undefined
  return type
}

/**
 * Fields of the object at `path` below the resolved field that are read as a property of the same name
 * (leaf fields without a resolver) and that the selection does not ask for (see selectedFields): keys of
 * the row that no one will read. Empty when `path` does not lead to an object type.
 */
export function unreadFields(info: Selection, path: readonly string[]): readonly string[] {
  const type = typeAt(info, path)
  if (!isObjectType(type)) return []
  const selected = selectedFields(info, path)
  return Object.values(type.getFields())
    .filter((f) => isLeafType(getNamedType(f.type)) && !f.resolve && !selected.has(f.name))
    .map((f) => f.name)
}
