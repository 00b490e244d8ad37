import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeVectorSend } from '../../src/db/repositories/embedding.repository.ts'
import { runCli } from '../support/cli.ts'
import { createServerTestDatabase, tmpDir, type TestDatabase } from '../support/database.ts'
import { PLANETBLUPI_MUSIC, realMusicFiles, writeRealMusicCatalog } from '../support/real-music.ts'

/**
 * Real encoded music end to end (the synthetic catalog's audio is too tame to find what real audio does):
 * Ogg Vorbis game soundtracks from Debian's planetblupi-music-ogg (scripts/install-real-music.sh, which
 * .ci/run calls), linked by a small Discogs dump and manifest, imported, trained on for a few steps and
 * embedded in both spaces through the CLI; every stored vector and centroid must be finite and of unit
 * length. The files are 10-minute loops: each is cut to its first 600 kB (about 70 s; the decoder reads the
 * whole Ogg pages before the cut) to keep the test near 30 s of CPU.
 */
const files = realMusicFiles().slice(4, 8)
const reason = `${PLANETBLUPI_MUSIC} is absent (scripts/install-real-music.sh installs it)`
const CUT_BYTES = 600_000

describe.skipIf(files.length < 4)(
  `training and embedding real music${files.length < 4 ? ` — skipped: ${reason}` : ''}`,
  () => {
    let t: TestDatabase
    let root: string
    let env: Record<string, string>

    beforeAll(async () => {
      t = await createServerTestDatabase()
      root = tmpDir('discograph-real-music-')
      env = { DATABASE_URL: t.config.databaseUrl!, DATA_DIR: t.config.dataDir, LOG_LEVEL: 'warn' }
      const cut = files.map((f) => {
        const out = path.join(root, 'source', path.basename(f))
        fs.mkdirSync(path.dirname(out), { recursive: true })
        fs.writeFileSync(out, fs.readFileSync(f).subarray(0, CUT_BYTES))
        return out
      })
      // Two artists with two tracks each: the artist association has two groups, one batch of two pairs.
      const catalog = writeRealMusicCatalog(path.join(root, 'catalog'), cut, { artists: 2 })
      const discogs = await runCli(['ingest', 'discogs', ...catalog.dumps], env)
      expect(discogs.code, discogs.stderr).toBe(0)
      const audio = await runCli(
        ['ingest', 'audio', catalog.audioDir, '--manifest', catalog.manifest, '--json'],
        env,
      )
      expect(audio.code, audio.stderr).toBe(0)
      expect(JSON.parse(audio.stdout).match).toMatchObject({ linked: 4, errors: 0 })
    }, 120_000)
    afterAll(async () => {
      await t?.dispose()
      if (root) fs.rmSync(root, { recursive: true, force: true })
    })

    it('trains a few steps, embeds every track in both spaces, and stores only finite unit vectors', async () => {
      const train = await runCli(
        [
          'train',
          '--association',
          'artist',
          '--size',
          'tiny',
          '--batch',
          '2',
          '--steps',
          '4',
          '--validation',
          '0',
          '--name',
          'real',
          '--json',
        ],
        env,
      )
      expect(train.code, train.stderr).toBe(0)
      expect(Number.isFinite(JSON.parse(train.stdout).metrics.loss)).toBe(true)

      const embed = await runCli(['embed', '--model', 'real', '--json'], env)
      expect(embed.code, embed.stderr).toBe(0)
      const summary = JSON.parse(embed.stdout)
      expect(summary.spaces.map((s: { space: string; written: number }) => [s.space, s.written])).toEqual([
        ['backbone', 4],
        ['projection', 4],
      ])

      const rows = (
        await t.db.pool.query(
          `SELECT 'track' AS what, space, vector_send(embedding) AS v FROM track_embedding
         UNION ALL SELECT 'artist', space, vector_send(embedding) FROM artist_centroid
         UNION ALL SELECT 'label', space, vector_send(embedding) FROM label_centroid`,
        )
      ).rows as { what: string; space: string; v: Buffer }[]
      expect(rows.filter((r) => r.what === 'track')).toHaveLength(8)
      expect(rows.filter((r) => r.what === 'artist')).toHaveLength(4)
      for (const r of rows) {
        const v = decodeVectorSend(r.v)
        expect(v.every(Number.isFinite), `${r.what} ${r.space}`).toBe(true)
        expect(Math.hypot(...v), `${r.what} ${r.space}`).toBeCloseTo(1, 4)
      }
    }, 120_000)
  },
)
