// pgvector's text form of a Float32Array: joining the typed array (the old hand-written codec) against
// pgvector-node's toSql (JSON.stringify of a plain array). Process CPU time, runs alternated, median of 6.
// Run: npx tsx bench/vector-text.ts
import pgvector from 'pgvector'
import { SeededRandom } from '../src/random/seeded-random.ts'

const r = new SeededRandom(1)
const vs = Array.from({ length: 2000 }, () => Float32Array.from({ length: 1280 }, () => r.next() * 2 - 1))
const join = (v: Float32Array) => `[${Array.prototype.join.call(v, ',')}]`
const toSql = (v: Float32Array) => pgvector.toSql(Array.from(v)) as string

const differ = vs.filter((v) => join(v) !== toSql(v)).length
if (differ) throw new Error(`${differ} vectors differ in text`)

function cpuMs(f: () => void): number {
  const start = process.cpuUsage()
  f()
  const d = process.cpuUsage(start)
  return (d.user + d.system) / 1000
}
const a: number[] = []
const b: number[] = []
for (let k = 0; k < 6; k++) {
  a.push(cpuMs(() => vs.forEach(join)))
  b.push(cpuMs(() => vs.forEach(toSql)))
}
const median = (x: number[]) => x.sort((p, q) => p - q)[x.length >> 1]
console.log(
  `2,000 × 1,280 floats, same text: join ${median(a).toFixed(0)} ms, pgvector.toSql ${median(b).toFixed(0)} ms CPU (median of 6)`,
)
