import crypto from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { parseBuffer } from 'music-metadata'
import { decodeAudioBuffer } from '../../audio/decode.ts'
import type { FeatureStore } from '../../audio/feature-store.ts'
import { frameCount, melFrames } from '../../audio/mel.ts'
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
      /** [nFrames][96] log-mel frames */
      frames: Float32Array
    }
  | { kind: 'failed'; path: string; sha256: string | null; tags: FileTags | null; error: string }

/**
 * Everything about one file that costs CPU: one read, then its sha256, its tags, and unless the content is
 * already in the store, decoding to 16 kHz mono and the mel frames. Runs in a worker thread (or inline);
 * it reads the store but never writes it, the importing thread does.
 */
export async function extractFeatures(task: ExtractTask, store: FeatureStore): Promise<ExtractResult> {
  let buf: Buffer
  try {
    buf = await fs.readFile(task.path)
  } catch (err) {
    return {
      kind: 'failed',
      path: task.path,
      sha256: null,
      tags: null,
      error: `cannot read: ${(err as Error).message}`,
    }
  }
  const sha256 = crypto.createHash('sha256').update(buf).digest('hex')
  let tags: FileTags | null = null
  try {
    const meta = await parseBuffer(
      buf,
      { path: task.path, size: buf.length },
      { skipCovers: true, duration: false },
    )
    tags = fileTagsFrom(meta)
  } catch {
    // unreadable tags are no reason to give up on the audio: decoding decides whether the file is good
  }
  if (task.skipIfStored && store.has(sha256)) return { kind: 'stored', path: task.path, sha256, tags }
  try {
    const audio = await decodeAudioBuffer(buf, path.basename(task.path), task.path)
    const frames = melFrames(audio.samples)
    return {
      kind: 'decoded',
      path: task.path,
      sha256,
      tags,
      format: audio.format,
      sourceSampleRate: audio.sourceSampleRate,
      channels: audio.channels,
      durationS: audio.durationS,
      nFrames: frameCount(audio.samples.length),
      frames,
    }
  } catch (err) {
    return { kind: 'failed', path: task.path, sha256, tags, error: (err as Error).message }
  }
}
