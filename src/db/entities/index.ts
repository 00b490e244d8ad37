import { ArtistEntity } from './artist.entity.ts'
import { LabelEntity } from './label.entity.ts'
import { MasterEntity } from './master.entity.ts'
import { ReleaseEntity } from './release.entity.ts'
import { TrackEntity } from './track.entity.ts'
import { ArtistAliasEntity } from './artist-alias.entity.ts'
import { ArtistMemberEntity } from './artist-member.entity.ts'
import { ArtistGroupEntity } from './artist-group.entity.ts'
import { LabelSublabelEntity } from './label-sublabel.entity.ts'
import { MasterArtistEntity } from './master-artist.entity.ts'
import { MasterGenreEntity } from './master-genre.entity.ts'
import { MasterStyleEntity } from './master-style.entity.ts'
import { MasterVideoEntity } from './master-video.entity.ts'
import { ReleaseArtistEntity } from './release-artist.entity.ts'
import { ReleaseCreditEntity } from './release-credit.entity.ts'
import { ReleaseLabelEntity } from './release-label.entity.ts'
import { ReleaseSeriesEntity } from './release-series.entity.ts'
import { ReleaseFormatEntity } from './release-format.entity.ts'
import { ReleaseIdentifierEntity } from './release-identifier.entity.ts'
import { ReleaseCompanyEntity } from './release-company.entity.ts'
import { ReleaseVideoEntity } from './release-video.entity.ts'
import { ReleaseGenreEntity } from './release-genre.entity.ts'
import { ReleaseStyleEntity } from './release-style.entity.ts'
import { TrackArtistEntity } from './track-artist.entity.ts'
import { TrackCreditEntity } from './track-credit.entity.ts'
import { DiscogsImportEntity } from './discogs-import.entity.ts'
import { SearchWordEntity } from './search-word.entity.ts'

export { ArtistEntity, LabelEntity, MasterEntity, ReleaseEntity, TrackEntity }

export {
  ArtistAliasEntity,
  ArtistMemberEntity,
  ArtistGroupEntity,
  LabelSublabelEntity,
  MasterArtistEntity,
  MasterGenreEntity,
  MasterStyleEntity,
  MasterVideoEntity,
  ReleaseArtistEntity,
  ReleaseCreditEntity,
  ReleaseLabelEntity,
  ReleaseSeriesEntity,
  ReleaseFormatEntity,
  ReleaseIdentifierEntity,
  ReleaseCompanyEntity,
  ReleaseVideoEntity,
  ReleaseGenreEntity,
  ReleaseStyleEntity,
  TrackArtistEntity,
  TrackCreditEntity,
  DiscogsImportEntity,
  SearchWordEntity,
}

/** The Discogs catalog's child tables (each row owned by one record) and the import's bookkeeping. */
export const discogsEntities = [
  ArtistAliasEntity,
  ArtistMemberEntity,
  ArtistGroupEntity,
  LabelSublabelEntity,
  MasterArtistEntity,
  MasterGenreEntity,
  MasterStyleEntity,
  MasterVideoEntity,
  ReleaseArtistEntity,
  ReleaseCreditEntity,
  ReleaseLabelEntity,
  ReleaseSeriesEntity,
  ReleaseFormatEntity,
  ReleaseIdentifierEntity,
  ReleaseCompanyEntity,
  ReleaseVideoEntity,
  ReleaseGenreEntity,
  ReleaseStyleEntity,
  TrackArtistEntity,
  TrackCreditEntity,
  DiscogsImportEntity,
]

/** Every entity; later concerns (audio, models, jobs) add theirs here. */
export const entities = [
  ...discogsEntities,
  ArtistEntity,
  LabelEntity,
  MasterEntity,
  ReleaseEntity,
  TrackEntity,
  SearchWordEntity,
]
