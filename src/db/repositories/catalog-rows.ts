/**
 * The API's row of each catalog entity: the columns read, named as the API names them (camelCase). The
 * reads of whole rows (CatalogReadRepository) and the linked rows joined into child lists
 * (catalog-child-lists.ts) select the same, so a credit's artist is the artist a lookup by id reads.
 */

export type Row = Record<string, unknown>

export const ARTIST = `a.id, a.name, a.real_name AS "realName", a.profile, a.data_quality AS "dataQuality", a.urls,
  a.name_variations AS "nameVariations", a.missing_since_dump AS "missingSinceDump"`
export const LABEL = `l.id, l.name, l.contact_info AS "contactInfo", l.profile, l.data_quality AS "dataQuality", l.urls,
  l.parent_id AS "parentId", l.parent_name AS "parentName", l.missing_since_dump AS "missingSinceDump"`
export const MASTER = `m.id, m.title, m.main_release_id AS "mainReleaseId", m.year, m.notes, m.data_quality AS "dataQuality",
  m.missing_since_dump AS "missingSinceDump"`
export const RELEASE = `r.id, r.title, r.status, r.country, r.released, r.year, r.notes, r.data_quality AS "dataQuality",
  r.master_id AS "masterId", r.is_main_release AS "isMainRelease", r.missing_since_dump AS "missingSinceDump"`
export const TRACK = `t.id::float8 AS id, t.release_id AS "releaseId", t.track_key AS "trackKey", t.parent_id::float8 AS "parentId",
  t.sequence, t.position, t.title, t.duration_text AS "durationText", t.duration_s AS "durationS", t.type,
  t.missing_since_dump AS "missingSinceDump"`
