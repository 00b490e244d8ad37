import { describe, expect, it } from 'vitest'
import { fnv1a32, hash32, SeededRandom } from '../../src/random/seeded-random.ts'
import { Rng } from '../../src/synth/prng.ts'

// The values below were produced by the two implementations this module replaced (training's hash32 and
// SeededRandom, synth's hash32 and Rng) at commit 141caa8: training splits and synthetic catalogs made
// before the merge stay the same.
describe('one seeded PRNG and hash', () => {
  it('hash32 (FNV-1a + murmur3 finaliser) keeps the values training splits were made with', () => {
    expect([hash32(''), hash32('a'), hash32('step:3', 42), hash32('12345', 7), hash32('x', -1)]).toEqual([
      2872998923, 444641715, 2193056477, 1533188404, 1080307760,
    ])
  })

  it('fnv1a32 is plain FNV-1a from a chosen basis, as the synthetic catalog derives its seeds', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5)
    expect(fnv1a32('a')).toBe(0xe40c292c) // FNV-1a test vector
    expect(fnv1a32('foobar')).toBe(0xbf9cf968) // FNV-1a test vector
    expect([fnv1a32('artist\u00013', fnv1a32('7')), fnv1a32('b', 123)]).toEqual([2671678721, 419440475])
  })

  it('the synthetic catalog draws from the same mulberry32 stream as training', () => {
    const a = new Rng(9)
    const b = new SeededRandom(9)
    expect(Array.from({ length: 50 }, () => a.next())).toEqual(Array.from({ length: 50 }, () => b.next()))
    expect(new SeededRandom(9).next()).toBe(0.19872891809791327)
    expect(new SeededRandom(9).fork(5).next()).toBe(0.14352113800123334)
    expect(new Rng(7).fork('artist', 3).next()).toBe(0.2983508340548724)
    expect(new Rng(7).fork('release', 1, 'track').next()).toBe(0.7636627920437604)
  })
})
