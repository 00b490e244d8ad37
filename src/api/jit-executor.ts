import type { ApolloServerOptionsWithGateway } from '@apollo/server'
import {
  defaultFieldResolver,
  execute,
  getNamedType,
  getVariableValues,
  GraphQLError,
  isLeafType,
  isObjectType,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql'
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit'
import { LRUCache } from 'lru-cache'

type Gateway = ApolloServerOptionsWithGateway<Record<string, unknown>>['gateway']
type Executor = NonNullable<Awaited<ReturnType<Gateway['load']>>['executor']>

/** Distinct operations kept compiled; clients send a handful of shapes, so this only guards against floods. */
const DEFAULT_CACHE_SIZE = 500

export interface JitOptions {
  cacheSize?: number
}

export interface ExecuteRequest {
  schema: GraphQLSchema
  document: DocumentNode
  operation: OperationDefinitionNode | undefined
  /** Identifies the document text (Apollo's query hash, or the text itself); with the operation name, the cache key. */
  documentKey: string | undefined
  /** As the request gave it (graphql-js picks the operation by it). */
  operationName: string | null | undefined
  variables: Record<string, unknown> | undefined
  context: unknown
}

const isPromise = <T>(x: T | Promise<T>): x is Promise<T> => typeof (x as Promise<T>)?.then === 'function'

/**
 * graphql-jit's errors lack graphql-js's defaults (`extensions` is undefined unless the original error has
 * some), which Apollo's formatting relies on: rebuild them as graphql-js's locatedError would.
 */
function withGraphqlJsErrors(result: ExecutionResult): ExecutionResult {
  if (!result.errors?.length) return result
  const errors = result.errors.map((e) => {
    const error = new GraphQLError(e.message, {
      path: e.path,
      originalError: e.originalError ?? undefined,
      extensions: e.extensions,
    })
    // Compiled code knows the locations but not the AST nodes graphql-js would compute them from.
    ;(error as { locations: GraphQLError['locations'] }).locations = e.locations
    return error
  })
  return { ...result, errors }
}

const prepared = new WeakSet<GraphQLSchema>()

/**
 * graphql-jit reads a field without a resolver as a plain property, where graphql-js's default resolver
 * also awaits a promise and calls a function found there. Our resolvers hand back objects holding promises
 * (a similar track's `track` is a loader's promise), so every object-valued field without a resolver gets
 * graphql-js's default one: the same semantics on both executors. Leaf fields (most of a response) stay
 * inlined; a promise or function there fails serialisation loudly, and lazily counted totals have resolvers.
 */
function prepareSchema(schema: GraphQLSchema): void {
  if (prepared.has(schema)) return
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue
    for (const field of Object.values(type.getFields()))
      if (!field.resolve && !isLeafType(getNamedType(field.type))) field.resolve = defaultFieldResolver
  }
  prepared.add(schema)
}

/**
 * Executes operations with graphql-jit: each distinct document and operation is compiled once to a function
 * that walks the selection without graphql-js's per-field argument and resolver-info work (a 50-release page
 * is ≈ 2,000 fields). Whatever it cannot compile, and subscriptions, run through graphql-js. Variables are
 * coerced by graphql-js first so invalid ones give graphql-js's errors exactly (Apollo turns those into
 * BAD_USER_INPUT / status 400 by their nodes and wording, which graphql-jit's own errors lack).
 */
export class JitExecutor {
  /** false: graphql-jit cannot compile it, so graphql-js runs it (remembered too, so it is not tried again) */
  private readonly compiled: LRUCache<string, CompiledQuery | false>

  constructor(options: JitOptions = {}) {
    this.compiled = new LRUCache({ max: options.cacheSize ?? DEFAULT_CACHE_SIZE })
  }

  get cachedOperations(): number {
    return this.compiled.size
  }

  execute(req: ExecuteRequest): ExecutionResult | Promise<ExecutionResult> {
    const { schema, document, operation, operationName, variables, context } = req
    const viaGraphqlJs = () =>
      execute({ schema, document, operationName, variableValues: variables, contextValue: context })
    if (!operation || operation.operation === 'subscription' || req.documentKey === undefined)
      return viaGraphqlJs()
    const name = operation.name?.value
    const query = this.compile(schema, document, `${name ?? ''}\n${req.documentKey}`, name)
    if (!query) return viaGraphqlJs()
    if (operation.variableDefinitions?.length) {
      // The same limit graphql-js's execute applies.
      const coerced = getVariableValues(schema, operation.variableDefinitions, variables ?? {}, {
        maxErrors: 50,
      })
      if (coerced.errors) return { errors: coerced.errors }
    }
    const result = query.query(undefined, context, variables ?? {})
    return isPromise(result) ? result.then(withGraphqlJsErrors) : withGraphqlJsErrors(result)
  }

  private compile(
    schema: GraphQLSchema,
    document: DocumentNode,
    key: string,
    operationName: string | undefined,
  ): CompiledQuery | null {
    const hit = this.compiled.get(key)
    if (hit !== undefined) return hit || null
    let query: CompiledQuery | null = null
    prepareSchema(schema)
    try {
      const result = compileQuery(schema, document, operationName)
      if (isCompiledQuery(result)) query = result
    } catch {
      // A shape graphql-jit does not handle: graphql-js answers it, with its own errors if it is at fault.
    }
    this.compiled.set(key, query ?? false)
    return query
  }
}

/**
 * Apollo Server takes a custom executor only through its gateway interface: this one serves a fixed schema.
 * Parsing, validation, plugins (limits, metrics), context and error formatting stay Apollo's; only execution
 * changes.
 */
export function jitGateway(schema: GraphQLSchema, jit = new JitExecutor()): Gateway {
  let listener: Parameters<Gateway['onSchemaLoadOrUpdate']>[0] | undefined
  const executor: Executor = async (rc) =>
    jit.execute({
      schema,
      document: rc.document,
      operation: rc.operation,
      documentKey: rc.queryHash ?? rc.source,
      operationName: rc.request.operationName,
      variables: rc.request.variables,
      context: rc.context,
    })
  return {
    onSchemaLoadOrUpdate(callback) {
      listener = callback
      return () => (listener = undefined)
    },
    async load() {
      listener?.({ apiSchema: schema, coreSupergraphSdl: '' })
      return { executor }
    },
    async stop() {},
  }
}
