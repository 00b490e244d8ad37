/**
 * Facts about Discogs' own data that several layers rely on (the repositories' SQL, the synthetic catalog),
 * kept in one place so they cannot drift apart.
 */

/** Discogs' "Various" artist: the main artist of compilations, a placeholder, never an artist whose tracks share anything. */
export const VARIOUS_ARTIST_ID = 194
