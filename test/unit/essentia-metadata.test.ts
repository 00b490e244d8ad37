import { describe, expect, it } from 'vitest'
import { ModelShapeError } from '../../src/errors.ts'
import {
  essentiaTaskName,
  isMultiLabel,
  parseEssentiaMetadata,
  predictionsOutput,
  summarizeMetadata,
} from '../../src/ml/onnx/essentia-metadata.ts'
import { discogsStyles, encoderMetadata, headMetadata, JAMENDO_MOODS } from '../support/essentia-metadata.ts'

const parse = (file: string, value: unknown) => parseEssentiaMetadata(file, JSON.stringify(value))
const message = (fn: () => unknown) => {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(ModelShapeError)
    return (e as Error).message
  }
  throw new Error('did not throw')
}

describe("Essentia's model metadata", () => {
  it('reads the classes in output order, the predictions output and the published figures', () => {
    const meta = parse('discogs-effnet-bsdynamic-1.json', encoderMetadata())
    expect(meta.classes).toHaveLength(400)
    expect(meta.classes.slice(0, 2)).toEqual(['Blues---Boogie Woogie', 'Blues---Chicago Blues'])
    expect(predictionsOutput(meta)).toEqual({ name: 'activations', op: 'Sigmoid' })
    expect(isMultiLabel(meta)).toBe(true)
    expect(summarizeMetadata('/models/discogs-effnet-bsdynamic-1.json', meta)).toEqual({
      file: 'discogs-effnet-bsdynamic-1.json',
      name: 'Discogs-Effnet',
      type: 'Music style classification',
      version: '1',
      link: 'https://essentia.upf.edu/models/feature-extractors/discogs-effnet/discogs-effnet-bsdynamic-1.onnx',
      description: 'Prediction of 400 music styles in the from the Discogs taxonomy',
      publishedMetrics: { 'ROC-AUC': 0.95417, 'PR-AUC': 0.20629 },
      embeddingModel: null,
    })
    const head = parse('mtg_jamendo_moodtheme-discogs-effnet-1.json', headMetadata(JAMENDO_MOODS))
    expect(summarizeMetadata('h.json', head).embeddingModel).toBe('discogs-effnet-bs64-1')
  })

  it('tells single-label (softmax) heads from multi-label (sigmoid) ones', () => {
    expect(isMultiLabel(parse('m.json', headMetadata(['happy', 'non_happy'], { op: 'Softmax' })))).toBe(false)
    expect(isMultiLabel(parse('m.json', headMetadata(['happy', 'non_happy'], { op: 'Sigmoid' })))).toBe(true)
    expect(isMultiLabel(parse('m.json', { classes: ['a', 'b'] }))).toBe(false)
    expect(isMultiLabel(parse('m.json', { classes: ['a', 'b', 'c'] }))).toBe(true)
  })

  it('names the task as Essentia names the head, and the encoder by its class count', () => {
    const meta = parse('x.json', { classes: discogsStyles() })
    expect(essentiaTaskName('/m/genre_discogs400-discogs-effnet-1.json', meta)).toBe('genre_discogs400')
    expect(essentiaTaskName('mtg_jamendo_moodtheme-discogs-effnet-1.json', meta)).toBe(
      'mtg_jamendo_moodtheme',
    )
    expect(essentiaTaskName('discogs-effnet-bsdynamic-1.json', meta)).toBe('discogs400')
    expect(essentiaTaskName('discogs-effnet-bs64-1.json', meta)).toBe('discogs400')
    expect(essentiaTaskName('my-tagger-3.json', meta)).toBe('my-tagger')
  })

  it('says which file and what is wrong', () => {
    expect(message(() => parseEssentiaMetadata('h.json', '{"classes": ['))).toMatch(/^h\.json: not JSON: /)
    expect(message(() => parse('h.json', { name: 'x' }))).toMatch(
      /^h\.json: classes: .*\(expected Essentia's model metadata: a "classes" list of names, in output order\)$/,
    )
    expect(message(() => parse('h.json', { classes: [] }))).toMatch(/^h\.json: classes: lists no classes/)
    expect(message(() => parse('h.json', { classes: ['a', 'a'] }))).toMatch(
      /^h\.json: classes: names a class twice/,
    )
    expect(message(() => parse('h.json', { classes: ['a', 3] }))).toMatch(/^h\.json: classes\.1: /)
    expect(message(() => parse('h.json', { classes: ['a'], schema: { outputs: [{ shape: [1] }] } }))).toMatch(
      /^h\.json: schema\.outputs\.0\.name: /,
    )
  })
})
