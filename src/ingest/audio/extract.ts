import crypto from 'node:crypto'
import fs from 'node:fs'
import { parseFile } from 'music-metadata'
import { streamAudioFile } from '../../audio/decode-stream.ts'
import type { FeatureStore } from '../../audio/feature-store.ts'
import { MelStream } from '../../audio/mel.ts'
import { fileTagsFrom, type FileTags } from './tags.ts'

export interface ExtractTask {
  path: string
  /** answer `stored` without decoding when the feature store already has this content */
  skipIfStored: boolean
}

export type ExtractResult =
  | { kind: 'stored'; path: string; sha256: string; tags: FileTags | null }
  | {
      kind: 'decoded'
      path: string
      sha256: string
      tags: FileTags | null
      format: string
      sourceSampleRate: number
      channels: number
      durationS: number
      nFrames: number
      /** the [nFrames][96] log-mel frames, complete, under a temporary name: the importer adopts or discards it */
      tempFile: string
    }
  | { kind: 'failed'; path: string; sha256: string | null; tags: FileTags | null; error: string }

async function sha256Of(file: string): Promise<string> {
  const hash = crypto.createHash('sha256')
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 }))
    hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/**
 * Everything about one file that costs CPU: its sha256, its tags, and unless the content is already in the
 * store, decoding to 16 kHz mono and the mel frames. All of it streams: the file is hashed and decoded in
 * pieces, and each piece's frames are appended to a temporary feature file, so memory does not grow with
 * the length of the file. Runs in a worker thread (or inline); it never puts a file in place in the store,
 * the importing thread does (`FeatureStore.adopt`).
 */
export async function extractFeatures(task: ExtractTask, store: FeatureStore): Promise<ExtractResult> {
  let sha256: string
  try {
    sha256 = await sha256Of(task.path)
  } catch (err) {
    return {
      kind: 'failed',
      path: task.path,
      sha256: null,
      tags: null,
      error: `cannot read: ${(err as Error).message}`,
    }
  }
  let tags: FileTags | null = null
  try {
    tags = fileTagsFrom(await parseFile(task.path, { skipCovers: true, duration: false }))
  } catch {
    // unreadable tags are no reason to give up on the audio: decoding decides whether the file is good
  }
  if (task.skipIfStored && store.has(sha256)) return { kind: 'stored', path: task.path, sha256, tags }
  const writer = store.writer(sha256)
  try {
    const mel = new MelStream()
    const audio = await streamAudioFile(task.path, (samples) => writer.append(mel.push(samples)))
    writer.append(mel.end())
    const { tempFile, nFrames } = writer.finish()
    return {
      kind: 'decoded',
      path: task.path,
      sha256,
      tags,
      format: audio.format,
      sourceSampleRate: audio.sourceSampleRate,
      channels: audio.channels,
      durationS: audio.durationS,
      nFrames,
      tempFile,
    }
  } catch (err) {
    writer.abort()
    return { kind: 'failed', path: task.path, sha256, tags, error: (err as Error).message }
  }
}
