import { FeatureStore } from '../audio/feature-store.ts'
import { MEL_BANDS } from '../audio/mel.ts'
import { DEFAULT_PATCH_HOP, PATCH_FRAMES, patchCount } from '../audio/patches.ts'
import type { Database } from '../db/database.ts'
import { AudioFileRepository } from '../db/repositories/audio-file.repository.ts'
import type { PatchSource } from '../ml/training/trainer.ts'

/**
 * Patches of every track with audio, read from the feature store: what training and embedding consume.
 * An adapter between three layers (the tracks' audio rows, the store's files, the trainer's `PatchSource`),
 * so it lives with the services, which may reach all three; `audio/` stays free of the database and the models.
 */
export async function featureStorePatchSource(
  db: Database,
  dataDir: string,
  hop = DEFAULT_PATCH_HOP,
): Promise<PatchSource & { trackIds: number[]; close(): void }> {
  const store = new FeatureStore(dataDir)
  const tracks = new Map(
    (await new AudioFileRepository(db.pool).tracksWithAudio()).map((t) => [t.trackId, t]),
  )
  const info = (trackId: number) => {
    const t = tracks.get(trackId)
    if (!t) throw new Error(`track ${trackId} has no decoded audio`)
    return t
  }
  return {
    trackIds: [...tracks.keys()],
    patchCount: (trackId) => patchCount(info(trackId).nFrames, hop),
    read: async (refs) => {
      const out = new Float32Array(refs.length * PATCH_FRAMES * MEL_BANDS)
      refs.forEach((r, i) => {
        const t = info(r.trackId)
        store.readPatchInto(t.sha256, t.nFrames, r.patch, hop, out, i * PATCH_FRAMES * MEL_BANDS)
      })
      return out
    },
    close: () => store.close(),
  }
}
