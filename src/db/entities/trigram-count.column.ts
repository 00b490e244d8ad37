import { Column } from 'typeorm'

/**
 * The stored count of a searchable text's distinct trigrams, which search reads in bands (see
 * src/db/trigram-bands.ts). Postgres computes it; the app never writes it.
 */
export function TrigramCountColumn(text: string): PropertyDecorator {
  return Column({
    type: 'smallint',
    name: `${text}_trigrams`,
    nullable: true,
    generatedType: 'STORED',
    asExpression: `cardinality(show_trgm(${text}))`,
    insert: false,
    update: false,
  })
}
