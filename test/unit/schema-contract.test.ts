import fs from 'node:fs'
import {
  buildSchema,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isIntrospectionType,
  isListType,
  isObjectType,
  isSpecifiedScalarType,
  type GraphQLNamedType,
} from 'graphql'
import { describe, expect, it } from 'vitest'

/**
 * The GraphQL contract as clients read it (introspection, GraphiQL's docs), built from the SDL files alone:
 * every type, field, argument, input field and enum value says what it is, and every list says how long it
 * can be.
 */
const dir = new URL('../../src/schema/', import.meta.url)
const sdl = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.graphql'))
  .sort()
  .map((f) => fs.readFileSync(new URL(f, dir), 'utf8'))
  .join('\n')
const schema = buildSchema(sdl)
const types = Object.values(schema.getTypeMap()).filter(
  (t: GraphQLNamedType) => !isIntrospectionType(t) && !isSpecifiedScalarType(t),
)

/** Every place a description belongs, and whether it has one. */
function describable(): { where: string; description: string | null | undefined }[] {
  const all: { where: string; description: string | null | undefined }[] = []
  for (const t of types) {
    all.push({ where: `type ${t.name}`, description: t.description })
    if (isObjectType(t) || isInterfaceType(t) || isInputObjectType(t))
      for (const f of Object.values(t.getFields())) {
        all.push({ where: `${t.name}.${f.name}`, description: f.description })
        if ('args' in f)
          for (const a of f.args)
            all.push({ where: `${t.name}.${f.name}(${a.name})`, description: a.description })
      }
    if (isEnumType(t))
      for (const v of t.getValues()) all.push({ where: `${t.name}.${v.name}`, description: v.description })
  }
  return all
}

describe('the GraphQL contract', () => {
  it('describes every type, field, argument, input field and enum value', () => {
    const all = describable()
    expect(all.length).toBeGreaterThan(600) // the walk reached the whole schema
    expect(all.filter((d) => !d.description?.trim()).map((d) => d.where)).toEqual([])
  })

  it('says how long each list can be: a page, a cap, an argument with a maximum, or one record', () => {
    // Connections are types of their own; a plain list states its bound in words a reader can check.
    const bound = /at most|one record's list|one tracklist's|as many|one per|about \d+|every class/i
    const unbounded: string[] = []
    for (const t of types)
      if (isObjectType(t) || isInterfaceType(t))
        for (const f of Object.values(t.getFields()))
          if (isListType(getNullableType(f.type)) && !bound.test(f.description ?? ''))
            unbounded.push(`${t.name}.${f.name}`)
    expect(unbounded).toEqual([])
  })

  it('spells enum values in UPPER_CASE', () => {
    const values = types.filter(isEnumType).flatMap((t) => t.getValues().map((v) => `${t.name}.${v.name}`))
    expect(values).toContain('JobState.QUEUED')
    expect(values.filter((v) => !/\.[A-Z][A-Z0-9_]*$/.test(v))).toEqual([])
  })

  it('takes and returns the fixed vocabularies as enums', () => {
    const typeOf = (type: string, field: string) => {
      const t = schema.getType(type)
      if (!t || !(isObjectType(t) || isInputObjectType(t))) throw new Error(`no type ${type}`)
      return String(t.getFields()[field].type)
    }
    expect(typeOf('TrainingInput', 'association')).toBe('TrainingAssociation!')
    expect(typeOf('TrainingInput', 'size')).toBe('EncoderSize')
    expect(typeOf('TrainingRun', 'association')).toBe('TrainingAssociation!')
    expect(typeOf('Job', 'state')).toBe('JobState!')
  })
})
