import { Column } from 'typeorm'
import { trigramCountColumn } from '../trigram-bands.ts'

/**
 * The count of a searchable text's distinct trigrams, which search reads in bands (src/db/trigram-bands.ts).
 * The importer writes it with the text; rows written any other way must set it (to
 * `cardinality(show_trgm(text))`) for search to find them.
 */
export function TrigramCountColumn(text: string): PropertyDecorator {
  return Column({ type: 'smallint', name: trigramCountColumn(text), nullable: true })
}
