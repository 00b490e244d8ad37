import { Worker } from 'node:worker_threads'
const r = () => Math.round(process.memoryUsage().rss / 1e6)
const which = process.argv[3]
console.log('start', r())
let peak = 0, n = 0
const t = setInterval(() => (peak = Math.max(peak, r())), 20)
const url = which === 'bundle' ? new URL('file:///tmp/ingwork/pw.mjs') : new URL('../src/ingest/discogs/parse-worker.js', import.meta.url)
const w = new Worker(url, { workerData: { file: process.argv[2], opts: { encoding: 'copy', dumpDate: '20990101', batchRecords: 2000 }, initialCredits: 2 }, resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 } })
await new Promise<void>((res) => w.on('message', (m) => { if (m.kind === 'batch') { n += m.batch.records; if (n === 2000) console.log('first batch', r()); w.postMessage({ credit: 1 }) } if (m.kind === 'done') res() }))
await w.terminate()
clearInterval(t)
console.log(which, 'peak', peak, 'end', r(), n)
