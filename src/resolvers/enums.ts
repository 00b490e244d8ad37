import { JOB_STATES } from '../services/job.service.ts'
import type { ModelSpace } from '../services/model.service.ts'
import { ENCODER_SIZE_NAMES, TRAINING_ASSOCIATIONS } from '../ml/training/config.ts'

/**
 * The GraphQL enums whose values stand for the services' own lower-case words. Each value is spelt
 * UPPER_CASE in the schema (GraphQL's convention) and carries the word as its internal value: resolvers take
 * and return `'track'`, `'queued'`, `'backbone'`, and graphql (graphql-js and graphql-jit alike) converts at
 * the edge. A word the schema lacks fails when serialised instead of reaching a client.
 */
function upperCased(words: readonly string[]): Record<string, string> {
  return Object.fromEntries(words.map((w) => [w.toUpperCase(), w]))
}

export const enumResolvers = {
  JobState: upperCased(JOB_STATES),
  TrainingAssociation: upperCased(TRAINING_ASSOCIATIONS),
  EncoderSize: upperCased(ENCODER_SIZE_NAMES),
  EmbeddingSpace: upperCased(['backbone', 'projection'] satisfies ModelSpace[]),
  TrackType: upperCased(['track', 'heading', 'index']),
}
