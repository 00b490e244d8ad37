import { makeExecutableSchema } from '@graphql-tools/schema'
import type { GraphQLSchema } from 'graphql'
import { baseTypeDefs, catalogResolvers, catalogTypeDefs } from '../resolvers/catalog.ts'
import { jobsResolvers, jobsTypeDefs } from '../resolvers/jobs.ts'
import { mixResolvers, mixTypeDefs } from '../resolvers/mix.ts'
import { enumResolvers } from '../resolvers/enums.ts'
import { JSONScalar } from '../resolvers/scalars.ts'
import { similarityResolvers, similarityTypeDefs } from '../resolvers/similarity.ts'

/** One part of the API: its SDL (src/schema) and resolvers (src/resolvers). */
export interface ApiModule {
  typeDefs: string
  // Resolver maps are heterogeneous by nature; graphql-tools checks them against the SDL at start-up.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  resolvers: Record<string, any>
}

export const apiModules: ApiModule[] = [
  { typeDefs: baseTypeDefs, resolvers: { JSON: JSONScalar, ...enumResolvers } },
  { typeDefs: catalogTypeDefs, resolvers: catalogResolvers },
  { typeDefs: jobsTypeDefs, resolvers: jobsResolvers },
  { typeDefs: similarityTypeDefs, resolvers: similarityResolvers },
  { typeDefs: mixTypeDefs, resolvers: mixResolvers },
]

export function buildSchema(modules: ApiModule[] = apiModules): GraphQLSchema {
  return makeExecutableSchema({
    typeDefs: modules.map((m) => m.typeDefs),
    resolvers: modules.map((m) => m.resolvers),
  })
}
