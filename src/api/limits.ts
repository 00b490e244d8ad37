import {
  GraphQLError,
  type DocumentNode,
  type GraphQLSchema,
  type InlineFragmentNode,
  type OperationDefinitionNode,
  getNamedType,
  isListType,
  isNonNullType,
  Kind,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLOutputType,
  type SelectionSetNode,
  type ValueNode,
  isObjectType,
  isInterfaceType,
  type GraphQLNamedType,
} from 'graphql'
import { DEFAULT_PAGE_SIZE } from './pagination.ts'

/**
 * Limits that refuse abusive queries before any resolver runs: a depth limit, and a cost limit
 * where a field's cost is 1 plus its children's, multiplied by the page size for connections (`first` /
 * `last`, else the default page size) and by a fixed factor for plain lists. Both walk fragments. Checked once
 * the operation and its variables are known (page sizes usually come from variables).
 */
export interface QueryLimits {
  maxDepth: number
  maxCost: number
}

/** Plain lists are short by design (a release's formats, a master's styles) but not free. */
const LIST_FACTOR = 3

function unwrapList(type: GraphQLOutputType): boolean {
  const t = isNonNullType(type) ? type.ofType : type
  return isListType(t)
}

function intArg(node: FieldNode, name: string, variables: Record<string, unknown>): number | undefined {
  const arg = node.arguments?.find((a) => a.name.value === name)
  if (!arg) return undefined
  const v: ValueNode = arg.value
  if (v.kind === Kind.INT) return Number(v.value)
  if (v.kind === Kind.VARIABLE) {
    const x = variables[v.name.value]
    return typeof x === 'number' ? x : undefined
  }
  return undefined
}

function fieldsOf(type: GraphQLNamedType | undefined): Record<string, GraphQLField<unknown, unknown>> {
  return type && (isObjectType(type) || isInterfaceType(type)) ? type.getFields() : {}
}

/** Depth and cost of the operation that will run, with its variables (page sizes often come from them). */
export function measureOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  op: OperationDefinitionNode,
  variables: Record<string, unknown>,
): { depth: number; cost: number } {
  const fragments = new Map<string, FragmentDefinitionNode>()
  for (const def of document.definitions)
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def)

  function measure(
    set: SelectionSetNode,
    type: GraphQLNamedType | undefined,
    seen: Set<string>,
  ): [number, number] {
    let depth = 0
    let cost = 0
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        if (sel.name.value.startsWith('__')) continue
        const field = fieldsOf(type)[sel.name.value]
        let [d, c] = sel.selectionSet
          ? measure(sel.selectionSet, field && getNamedType(field.type), seen)
          : [0, 0]
        d += 1
        c += 1
        const pageSize = intArg(sel, 'first', variables) ?? intArg(sel, 'last', variables)
        if (field && getNamedType(field.type).name.endsWith('Connection')) c *= pageSize ?? DEFAULT_PAGE_SIZE
        else if (field && unwrapList(field.type) && !getNamedType(field.type).name.endsWith('Edge'))
          c *= LIST_FACTOR
        depth = Math.max(depth, d)
        cost += c
      } else {
        const name = sel.kind === Kind.FRAGMENT_SPREAD ? sel.name.value : undefined
        const fragment = name ? fragments.get(name) : (sel as InlineFragmentNode)
        if (!fragment || (name && seen.has(name))) continue // fragment cycles are refused by validation
        const typeName = fragment.typeCondition?.name.value
        const [d, c] = measure(
          fragment.selectionSet,
          typeName ? (schema.getType(typeName) ?? type) : type,
          name ? new Set([...seen, name]) : seen,
        )
        depth = Math.max(depth, d)
        cost += c
      }
    }
    return [depth, cost]
  }

  const root =
    op.operation === 'query'
      ? schema.getQueryType()
      : op.operation === 'mutation'
        ? schema.getMutationType()
        : schema.getSubscriptionType()
  const [depth, cost] = measure(op.selectionSet, root ?? undefined, new Set())
  return { depth, cost }
}

/** The GraphQL error refusing an operation over the limits, or null. Status 400: the query is at fault. */
export function limitError(
  measured: { depth: number; cost: number },
  limits: QueryLimits,
): GraphQLError | null {
  if (measured.depth > limits.maxDepth) {
    return new GraphQLError(`Query is ${measured.depth} levels deep; the limit is ${limits.maxDepth}.`, {
      extensions: {
        code: 'QUERY_TOO_DEEP',
        depth: measured.depth,
        maxDepth: limits.maxDepth,
        http: { status: 400 },
      },
    })
  }
  if (measured.cost > limits.maxCost) {
    return new GraphQLError(
      `Query costs ${measured.cost} (page sizes multiply nested fields); the limit is ${limits.maxCost}. Ask for smaller pages or fewer nested lists.`,
      {
        extensions: {
          code: 'QUERY_TOO_COMPLEX',
          cost: measured.cost,
          maxCost: limits.maxCost,
          http: { status: 400 },
        },
      },
    )
  }
  return null
}
