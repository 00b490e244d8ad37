import { describe, expect, it } from 'vitest'
import { parsePayload } from '../../src/jobs/catalogue.ts'
import { BadInputError } from '../../src/errors.ts'
import { trainingConfigSchema } from '../../src/ml/training/config.ts'

/** The `train` job's payload: the training config's own fields and bounds, nothing else, nothing filled in. */
describe('train job payload', () => {
  const refused = (payload: unknown) => {
    try {
      parsePayload('train', payload)
    } catch (e) {
      expect(e).toBeInstanceOf(BadInputError)
      return (e as Error).message
    }
    throw new Error(`accepted ${JSON.stringify(payload)}`)
  }

  it('keeps what was asked as asked: no defaults filled in (the run fills them when it starts)', () => {
    const asked = {
      config: { association: 'artist', size: 'tiny', batchSize: 8, steps: 20, augment: { gainDb: 6 } },
      name: 'r1',
      backend: 'native',
    }
    expect(parsePayload('train', asked)).toEqual(asked)
    // and the run reads it with every default
    expect(trainingConfigSchema.parse(asked.config)).toMatchObject({ batchSize: 8, learningRate: 1e-3 })
  })

  it('refuses an unknown key by name, at each level', () => {
    expect(refused({ config: { association: 'track', lr: 0.1 } })).toBe(
      'payload: config: Unrecognized key: "lr"',
    )
    expect(refused({ config: { association: 'track', augment: { gain: 3 } } })).toBe(
      'payload: config.augment: Unrecognized key: "gain"',
    )
    expect(refused({ config: { association: 'track' }, resumeRun: 'x' })).toMatch(
      /^payload: payload: .*"resumeRun"/,
    )
  })

  it('refuses a value out of the config’s bounds, naming the field', () => {
    expect(refused({ config: { association: 'track', batchSize: 1 } })).toMatch(
      /^payload: config\.batchSize: /,
    )
    expect(refused({ config: { association: 'song' } })).toMatch(/^payload: config\.association: /)
    expect(refused({ config: { association: 'track', size: 'huge' } })).toMatch(/^payload: config\.size: /)
    expect(refused({ config: { association: 'track', validationFraction: 0.9 } })).toMatch(
      /^payload: config\.validationFraction: /,
    )
    expect(refused({ config: { association: 'track', steps: 10, epochs: 2 } })).toBe(
      'payload: config.epochs: give steps or epochs, not both',
    )
    expect(refused({ config: { association: 'track' }, backend: 'wasm' })).toMatch(/^payload: backend: /)
  })

  it('needs an association unless it resumes a run', () => {
    expect(refused({ config: {} })).toBe('payload: config.association: is required (or resume)')
    expect(parsePayload('train', { config: {}, resume: 'run-1' })).toEqual({ config: {}, resume: 'run-1' })
  })
})
