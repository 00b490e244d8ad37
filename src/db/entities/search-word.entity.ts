import { Entity, PrimaryColumn } from 'typeorm'

/**
 * A word of the catalog's searchable texts: the search dictionary (src/db/search-words.ts). Its trigram
 * index (search_word_trgm, migration 1765100000000) finds the words like a misspelt one.
 */
@Entity('search_word')
export class SearchWordEntity {
  @PrimaryColumn({ type: 'text' }) word: string
}
