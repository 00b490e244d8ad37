/**
 * CPU cost of the pass that refuses unstorable strings (src/api/input-strings.ts) on a typical operation:
 * a search and a page of releases with a filter, arguments in variables.
 *   npx tsx bench/input-strings.ts
 */
import { parse } from 'graphql'
import { badStringArgument } from '../src/api/input-strings.ts'

const doc = parse(`query($q: String!, $f: ReleaseFilter, $first: Int) {
  search(query: $q, first: 5) { edges { score node { __typename } } }
  releases(filter: $f, first: $first) { totalCount edges { node { title artists { name } labels { name catalogNumber } tracks(first: 20) { edges { node { title } } } } } }
}`)
const vars = {
  q: 'persuader stockholm',
  f: { styles: ['Deep House', 'Techno'], countries: ['Sweden'], yearFrom: 1995 },
  first: 50,
}
for (let i = 0; i < 20_000; i++) badStringArgument(doc, vars)
const runs = 200_000
const started = process.cpuUsage()
for (let i = 0; i < runs; i++) badStringArgument(doc, vars)
const used = process.cpuUsage(started)
console.log(
  `${((used.user + used.system) / runs).toFixed(2)} µs of CPU per operation (${runs} runs, process CPU time)`,
)
