import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config/config.ts'

describe('access configuration', () => {
  it('reads READ_ACCESS, METRICS_TOKEN and URL_SIGNING_SECRET; empty means unset', () => {
    expect(loadConfig({})).toMatchObject({
      publicRead: true,
      metricsToken: undefined,
      urlSigningSecret: undefined,
    })
    const c = loadConfig({
      READ_ACCESS: 'key',
      METRICS_TOKEN: 'p'.repeat(16),
      URL_SIGNING_SECRET: 's'.repeat(32),
    })
    expect(c).toMatchObject({
      publicRead: false,
      metricsToken: 'p'.repeat(16),
      urlSigningSecret: 's'.repeat(32),
    })
    expect(loadConfig({ METRICS_TOKEN: '', URL_SIGNING_SECRET: '' })).toMatchObject({
      metricsToken: undefined,
      urlSigningSecret: undefined,
    })
  })

  it('refuses guessable secrets, naming the variable', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(ConfigError)
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(
      /METRICS_TOKEN: must be at least 16 characters/,
    )
    expect(() => loadConfig({ URL_SIGNING_SECRET: 'x'.repeat(31) })).toThrow(
      /URL_SIGNING_SECRET: must be at least 32 characters/,
    )
    expect(() => loadConfig({ READ_ACCESS: 'open' })).toThrow(/READ_ACCESS/)
  })
})
