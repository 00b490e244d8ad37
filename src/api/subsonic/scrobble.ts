import { idOf } from './ids.ts'
import type { Handler } from './model.ts'

export const scrobbleHandlers: Record<string, Handler> = {
  /** Stores plays (submission, the default) or "now playing" notices for the key (ScrobbleService). */
  scrobble: async ({ params, services, viewer }) => {
    const ids = params.all('id').map((id) => idOf('tr', id))
    if (!ids.length) params.required('id')
    await services.scrobbles.scrobble(
      viewer.keyId,
      ids,
      params.ints('time'),
      params.bool('submission', true),
      params.get('c') ?? null,
    )
    return {}
  },
}
