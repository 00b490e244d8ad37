import 'reflect-metadata'
import fs from 'node:fs'
import path from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AuthService } from '../../src/services/auth.service.ts'
import { startTestApi, type TestApi } from '../support/api.ts'
import { runCli } from '../support/cli.ts'
import { createServerTestDatabase, tmpDir, type TestDatabase } from '../support/database.ts'

const CHROMIUM = '/usr/bin/chromium'
// Debian's Chromium, installed by scripts/install-chromium.sh (.ci/run calls it); Playwright downloads nothing.
const haveChromium = fs.existsSync(CHROMIUM)

/** A PNG's width and height, read from its IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(1, 4).toString()).toBe('PNG')
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) }
}

describe.skipIf(!haveChromium)(
  'web UI in headless Chromium (synthetic catalog, audio, random-model vectors, a probe)',
  () => {
    let t: TestDatabase
    let api: TestApi
    let browser: Browser
    let page: Page
    let world: string
    let shots: string
    let adminKey: string
    let artistName: string

    beforeAll(async () => {
      t = await createServerTestDatabase()
      world = tmpDir('discograph-ui-world-')
      shots = tmpDir('discograph-ui-shots-')
      const env = { DATABASE_URL: t.config.databaseUrl!, DATA_DIR: t.config.dataDir }
      for (const args of [
        ['synth', '--out', world, '--size', 'tiny', '--artists', '8', '--releases', '12', '--fast'],
        ['ingest', 'discogs', world],
        ['ingest', 'audio', path.join(world, 'audio'), '--manifest', path.join(world, 'manifest.csv')],
        ['embed', '--model', 'random-tiny'],
        ['evaluate', '--retrieval-only'],
        ['probe', 'train', '--model', 'random-tiny', '--task', 'styles', '--name', 'ui-styles'],
      ]) {
        const r = await runCli(args, env)
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0)
      }
      // a second probe with stored scores, as an imported mood head leaves them (its graph is not needed to read them)
      await t.db.pool.query(
        `WITH p AS (INSERT INTO probe (name, task, multi_label, model_ids, space, classes, config, weights_path)
                  SELECT 'moods@random-tiny', 'mtg_jamendo_moodtheme', true, ARRAY[id], 'backbone', ARRAY['calm', 'energetic'], '{"source": "onnx-head"}', '/nowhere.onnx'
                    FROM model WHERE name = 'random-tiny' RETURNING id)
       INSERT INTO probe_prediction (probe_id, track_id, scores) SELECT p.id, af.track_id, ARRAY[0.25, 0.75]::real[] FROM p, audio_file af WHERE af.track_id IS NOT NULL`,
      )
      adminKey = (await new AuthService(t.db.pool, { publicRead: true }).createKey('ui-admin', 'admin')).key
      ;[{ name: artistName }] = (
        await t.db.pool.query(
          `SELECT a.name FROM artist a JOIN release_artist ra ON ra.artist_id = a.id ORDER BY a.id LIMIT 1`,
        )
      ).rows
      api = await startTestApi(t)
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      })
      page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
      page.on('pageerror', (err) => {
        throw err
      })
    }, 300_000)
    afterAll(async () => {
      await browser?.close()
      await api?.close()
      await t?.dispose()
      for (const d of [world, shots]) if (d) fs.rmSync(d, { recursive: true, force: true })
    })

    async function shot(name: string): Promise<Buffer> {
      const png = await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true })
      const { width, height } = pngSize(png)
      expect(width).toBe(1280)
      expect(height).toBeGreaterThanOrEqual(600)
      return png
    }

    it('shows the library at a glance on the landing page: counts, models with their figure, tracks to start from', async () => {
      await page.goto(`${api.url}/`)
      await page.waitForSelector('#counts')
      const counts = Object.fromEntries(
        await page.$$eval('#counts [data-count]', (bs) =>
          bs.map((b) => [(b as HTMLElement).dataset.count, Number(b.textContent!.replace(/[^0-9]/g, ''))]),
        ),
      )
      const { rows } = await t.db.pool.query(
        `SELECT (SELECT count(*) FROM release)::int AS releases, (SELECT count(*) FROM artist)::int AS artists, (SELECT count(*) FROM track)::int AS tracks,
              (SELECT count(DISTINCT track_id) FROM audio_file WHERE track_id IS NOT NULL AND status = 'ok')::int AS "tracksWithAudio"`,
      )
      expect(counts).toEqual(rows[0])
      expect(counts.tracksWithAudio).toBeGreaterThan(0)
      expect(await page.textContent('#model-figures')).toMatch(
        /random-tiny random — style P@10 \d+% \(\d+\.\d× chance/,
      )
      expect((await page.$$('#start-tracks a[href^="#/track/"]')).length).toBeGreaterThan(0)
      await shot('landing')
    })

    it('searches the catalog and opens a release with playable audio', async () => {
      await page.goto(`${api.url}/`)
      await page.fill('#q', artistName)
      await page.click('#search button')
      await page.waitForSelector('#hits')
      expect(await page.textContent('#hits')).toContain(artistName)
      await shot('search')
      await page.click('#hits a[href^="#/artist/"]')
      await page.waitForSelector('h2:has-text("Releases")')
      await page.click('a[href^="#/release/"]')
      await page.waitForSelector('#tracklist audio')
      const src = await page.getAttribute('#tracklist audio', 'src')
      const audio = await page.request.get(`${api.url}${src}`, { headers: { range: 'bytes=0-11' } })
      expect(audio.status()).toBe(206)
      expect((await audio.body()).subarray(0, 4).toString()).toBe('RIFF')
      await shot('release')
    })

    it('with READ_ACCESS=key, plays a release’s audio for a reader key through its signed URL (an <audio> sends no header)', async () => {
      const keyApi = await startTestApi(t, { publicRead: false })
      const keyPage = await browser.newPage()
      try {
        const reader = (
          await new AuthService(t.db.pool, { publicRead: false }).createKey('ui-reader', 'reader')
        ).key
        const [{ release }] = (
          await t.db.pool.query(
            `SELECT t.release_id AS release FROM track t JOIN audio_file a ON a.track_id = t.id AND a.status = 'ok' ORDER BY t.id LIMIT 1`,
          )
        ).rows
        await keyPage.goto(`${keyApi.url}/#/release/${release}`)
        await keyPage.waitForSelector('.error:has-text("UNAUTHENTICATED")')
        await keyPage.fill('#apikey', reader)
        await keyPage.click('#signin-button')
        await keyPage.waitForSelector('#tracklist audio')
        const src = (await keyPage.getAttribute('#tracklist audio', 'src'))!
        expect(src).toMatch(/^\/audio\/tracks\/\d+\?token=/)
        const duration = await keyPage.$eval('#tracklist audio', (el) => {
          const audio = el as HTMLAudioElement
          return new Promise<number>((resolve, reject) => {
            audio.addEventListener('loadedmetadata', () => resolve(audio.duration))
            audio.addEventListener('error', () => reject(new Error(`audio error ${audio.error?.code}`)))
            audio.preload = 'metadata'
            audio.load()
          })
        })
        expect(duration).toBeGreaterThan(0)
        expect((await keyPage.request.get(`${keyApi.url}${src.replace(/\?.*/, '')}`)).status()).toBe(401)
      } finally {
        await keyPage.close()
        await keyApi.close()
      }
    })

    it('shows similar tracks with scores and predicted styles, and filters them', async () => {
      await page.click('#tracklist a:has-text("similar")')
      await page.waitForSelector('#similar-table tr:nth-child(2)')
      const scores = await page.$$eval('#similar-table td.score', (tds) =>
        tds.map((td) => Number.parseFloat(td.textContent ?? '')),
      )
      expect(scores.length).toBeGreaterThan(3)
      for (const s of scores) expect(s >= 0 && s <= 1).toBe(true)
      expect([...scores].sort((a, b) => b - a)).toEqual(scores)
      // the model is chosen with its measured retrieval beside it
      const option = await page.$eval('select[name="model"] option', (o) => o.textContent ?? '')
      expect(option).toMatch(
        /^random-tiny — style P@10 \d+% \(\d+\.\d× chance; no-learning baseline \d+\.\d×\)$/,
      )
      await page.waitForSelector('#predicted .pill')
      // every probe's top classes: the trained styles probe and the imported moods
      const headings = await page.$$eval('#predicted h2', (hs) => hs.map((h) => h.textContent ?? ''))
      expect(headings).toEqual([
        'Predicted styles (probe ui-styles)',
        'Predicted mtg_jamendo_moodtheme (probe moods@random-tiny)',
      ])
      expect(
        await page.$$eval('#predicted p:last-child .pill', (ps) => ps.map((x) => x.textContent)),
      ).toEqual(['energetic 0.75', 'calm 0.25'])
      const before = await page.$$eval('#similar-table tr', (rows) => rows.length)
      await page.check('input[name="excludeSameLabel"]')
      await page.click('#filters button')
      await page.waitForFunction((n) => document.querySelectorAll('#similar-table tr').length <= n, before)
      await shot('similar')
    })

    it('makes a mix on the track page and plays it in order, moving on when a track ends', async () => {
      await page.click('#mix-button')
      await page.waitForSelector('#queue-list li:nth-child(4)')
      const items = await page.$$eval('#queue-list li', (lis) =>
        lis.map((li) => li.querySelector('a')!.getAttribute('href')),
      )
      expect(new Set(items).size).toBe(items.length)
      // the track itself first, then the mix
      expect(items[0]).toBe(new URL(page.url()).hash)
      const src = () => page.$eval('#queue-player', (a) => (a as HTMLAudioElement).getAttribute('src'))
      const first = await src()
      expect(await page.getAttribute('#queue-list li:nth-child(1)', 'class')).toContain('playing')
      await page.$eval('#queue-player', (a) => a.dispatchEvent(new Event('ended')))
      await page.waitForSelector('#queue-list li:nth-child(2).playing')
      expect(await src()).not.toBe(first)
      expect(await src()).toMatch(/^\/audio\/tracks\/\d+$/)
      await shot('mix')
    })

    it('finds a path to another track by searching it, from this track to that one', async () => {
      const here = decodeURIComponent(new URL(page.url()).hash.slice('#/track/'.length))
      const { rows } = await t.db.pool.query(
        `SELECT t.title FROM track t JOIN audio_file a ON a.track_id = t.id ORDER BY t.id DESC LIMIT 1`,
      )
      await page.fill('#path-q', rows[0].title)
      await page.click('#path-form button')
      await page.waitForSelector('#path-hits [data-to]')
      const to = await page.getAttribute('#path-hits [data-to]', 'data-to')
      await page.click('#path-hits [data-to]')
      await page.waitForSelector('#queue h2:has-text("Path from")')
      const items = await page.$$eval('#queue-list li a', (as) =>
        as.map((a) => decodeURIComponent(a.getAttribute('href')!.slice('#/track/'.length))),
      )
      expect(items[0]).toBe(here)
      expect(items.at(-1)).toBe(to)
      expect(items.length).toBeGreaterThanOrEqual(2)
    })

    it('draws the embedding map, coloured by style, and a click opens a track', async () => {
      await page.goto(`${api.url}/#/map`)
      await page.waitForSelector('#legend span')
      const painted = await page.$eval('#map', (c) => {
        const canvas = c as HTMLCanvasElement
        const d = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data
        let n = 0
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++
        return n
      })
      expect(painted).toBeGreaterThan(500)
      await shot('map')
    })

    it('shows training runs and jobs; an admin key brings the job actions', async () => {
      await page.goto(`${api.url}/#/training`)
      await page.waitForSelector('h1:has-text("Training runs")')
      const job = await api.gql(
        `mutation { importDiscogs(files: ["/nonexistent"]) { id state } }`,
        {},
        { authorization: `Bearer ${adminKey}` },
      )
      expect(job.body.data.importDiscogs.state).toBe('QUEUED')
      await page.goto(`${api.url}/#/jobs`)
      await page.waitForSelector('#jobs-signin') // jobs are admin-only: nothing is listed before signing in
      expect(await page.$$('#jobs')).toHaveLength(0)
      await page.fill('#apikey', adminKey)
      await page.click('#signin-button')
      await page.waitForSelector('button[data-cancel]')
      await page.click('button[data-cancel]')
      await page.waitForSelector('#jobs td.state-cancelled')
      await shot('jobs')
    })
  },
)
