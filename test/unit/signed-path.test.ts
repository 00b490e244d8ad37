import { describe, expect, it } from 'vitest'
import { signPath, verifyPath } from '../../src/services/signed-path.ts'

describe('signed paths', () => {
  const secret = Buffer.from('0123456789abcdef0123456789abcdef')
  const grant = { keyId: 7, expiresAt: 1_000_000 }
  const token = signPath(secret, '/audio/tracks/5', grant)

  it('carry their grant for their path until they expire', () => {
    expect(token).toMatch(/^1000000\.7\.[A-Za-z0-9_-]{43}$/)
    expect(verifyPath(secret, '/audio/tracks/5', token, 999_999)).toEqual({ grant })
    expect(verifyPath(secret, '/audio/tracks/5', token, 1_000_000)).toEqual({ refused: 'expired' })
  })

  it('are refused for another path, key, expiry or secret, or when malformed', () => {
    expect(verifyPath(secret, '/audio/tracks/6', token, 0)).toEqual({ refused: 'forged' })
    expect(verifyPath(secret, '/audio/tracks/5', token.replace('.7.', '.8.'), 0)).toEqual({
      refused: 'forged',
    })
    expect(verifyPath(secret, '/audio/tracks/5', token.replace('1000000.', '9000000.'), 0)).toEqual({
      refused: 'forged',
    })
    expect(
      verifyPath(Buffer.from('another secret of thirty-two bytes'), '/audio/tracks/5', token, 0),
    ).toEqual({ refused: 'forged' })
    for (const bad of ['', 'dg_someapikey', `${token}x`, token.slice(0, -1), '1.2.3'])
      expect(verifyPath(secret, '/audio/tracks/5', bad, 0)).toEqual({ refused: 'malformed' })
  })
})
