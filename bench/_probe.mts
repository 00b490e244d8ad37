import { readDumpFileInWorker } from '../src/ingest/discogs/parse-worker-client.ts'
const r = () => Math.round(process.memoryUsage().rss / 1e6)
console.log('start', r())
let peak = 0, n = 0
const t = setInterval(() => (peak = Math.max(peak, r())), 20)
for await (const ev of readDumpFileInWorker(process.argv[2], { encoding: 'copy', dumpDate: '20990101', batchRecords: 2000 })) {
  if (ev.kind === 'batch') { n += ev.batch.records; if (n === 2000) console.log('first batch', r()) }
}
clearInterval(t)
console.log('peak', peak, 'end', r(), n)
