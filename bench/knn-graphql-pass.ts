import { numericKey, toGlobalId } from '../src/api/global-id.ts'
import { startApiServer } from '../src/api/http-server.ts'
import { loadConfig } from '../src/config/config.ts'
import { JobQueue } from '../src/jobs/queue.ts'
import { createLogger } from '../src/logger.ts'
import type { QueryPass } from './knn.ts'

const QUERY = `query($id: ID!, $first: Int!, $model: String!, $filter: SimilarityFilter) {
  similarTracks(track: $id, first: $first, model: $model, filter: $filter) { similarity track { id } } }`

/**
 * similarTracks through the real API: `discograph serve`'s HTTP server over the bench database, one POST
 * per query over loopback (what an app integrating Discograph pays), ids mapped back for recall.
 */
export const graphqlPass: QueryPass = {
  name: 'graphql',
  async open({ db, model, ef }) {
    const config = { ...loadConfig({ LOG_LEVEL: 'silent' }), databaseUrl: db.url }
    const queue = await JobQueue.start(db)
    const api = await startApiServer(
      { db, config, logger: createLogger('silent'), queue, similarityOptions: { scan: { efSearch: ef } } },
      { port: 0, host: '127.0.0.1' },
    )
    return {
      async query(trackId, first, filter) {
        const res = await fetch(`${api.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            query: QUERY,
            variables: { id: toGlobalId('Track', trackId), first, model, filter },
          }),
        })
        const body = (await res.json()) as {
          data?: { similarTracks: { track: { id: string } }[] }
          errors?: unknown[]
        }
        if (body.errors) throw new Error(`similarTracks failed: ${JSON.stringify(body.errors)}`)
        return body.data!.similarTracks.map((s) => numericKey(s.track.id, 'Track'))
      },
      async close() {
        await api.close()
        await queue.stop()
      },
    }
  },
}
