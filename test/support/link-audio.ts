import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type pg from 'pg'
import { decodeAudioFile } from '../../src/audio/decode.ts'
import { FeatureStore } from '../../src/audio/feature-store.ts'
import { frameCount, melFrames } from '../../src/audio/mel.ts'

/**
 * Links a synthetic catalog's audio to its imported tracks the way the audio import ends up: mel frames in
 * the feature store under `dataDir`, one ok `audio_file` row per file with the track it belongs to (by
 * manifest.csv's release id and position). Returns the linked track ids.
 */
export async function linkSynthAudio(pool: pg.Pool, synthDir: string, dataDir: string): Promise<number[]> {
  const store = new FeatureStore(dataDir)
  const lines = fs.readFileSync(path.join(synthDir, 'manifest.csv'), 'utf8').trim().split('\n').slice(1)
  const linked: number[] = []
  for (const line of lines) {
    const [rel, releaseId, position] = parseCsvLine(line)
    const file = path.join(synthDir, rel)
    const { rows } = await pool.query(`SELECT id FROM track WHERE release_id = $1 AND position = $2`, [
      Number(releaseId),
      position,
    ])
    if (!rows[0]) throw new Error(`manifest row ${line}: no track`)
    const audio = await decodeAudioFile(file)
    const nFrames = frameCount(audio.samples.length)
    const sha256 = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')
    if (!store.has(sha256)) store.write(sha256, melFrames(audio.samples), nFrames)
    const stat = fs.statSync(file)
    await pool.query(
      `INSERT INTO audio_file (path, size, mtime_ms, sha256, status, format, n_frames, duration_s, track_id, match_method)
       VALUES ($1, $2, $3, $4, 'ok', 'wav', $5, $6, $7, 'manifest')`,
      [file, stat.size, stat.mtimeMs, sha256, nFrames, audio.durationS, rows[0].id],
    )
    linked.push(Number(rows[0].id))
  }
  store.close()
  return linked
}

function parseCsvLine(line: string): string[] {
  const out: string[] = []
  let cur = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"'
        i++
      } else if (ch === '"') quoted = false
      else cur += ch
    } else if (ch === '"') quoted = true
    else if (ch === ',') {
      out.push(cur)
      cur = ''
    } else cur += ch
  }
  out.push(cur)
  return out
}
