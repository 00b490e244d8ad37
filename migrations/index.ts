import { Catalog1764050000000 } from './1764050000000-catalog.ts'
import { DiscogsImportStaging1764100000000 } from './1764100000000-discogs-import-staging.ts'
import { DiscogsDeferredIndexes1764100000001 } from './1764100000001-discogs-deferred-indexes.ts'
import { DiscogsStageTrackNumbers1764100000002 } from './1764100000002-discogs-stage-track-numbers.ts'
import { DiscogsStageBytes1764100000003 } from './1764100000003-discogs-stage-bytes.ts'
import { AudioFiles1764300000000 } from './1764300000000-audio-files.ts'
import { JobsAndKeys1764700000000 } from './1764700000000-jobs-and-keys.ts'
import { TrainingRuns1764800000000 } from './1764800000000-training-runs.ts'
import { ModelsEmbeddingsProbes1764900000000 } from './1764900000000-models-embeddings-probes.ts'
import { ModelFingerprintUnique1764900000100 } from './1764900000100-model-fingerprint-unique.ts'
import { AudioFileClaims1764960000000 } from './1764960000000-audio-file-claims.ts'
import { SearchTrigramBands1765000000000 } from './1765000000000-search-trigram-bands.ts'
import { TrigramOperatorCosts1765000000100 } from './1765000000100-trigram-operator-costs.ts'
import { SearchDictionary1765100000000 } from './1765100000000-search-dictionary.ts'
import { SearchViews1765200000000 } from './1765200000000-search-views.ts'
import { FinerSearchBands1765300000000 } from './1765300000000-finer-search-bands.ts'
import { SearchWordIndexes1765400000000 } from './1765400000000-search-word-indexes.ts'
import { SearchTransform1765500000000 } from './1765500000000-search-transform.ts'

/** Every migration, in order. Listed explicitly (no glob) so they load the same under tsx and vitest. */
export const migrations = [
  Catalog1764050000000,
  DiscogsImportStaging1764100000000,
  DiscogsDeferredIndexes1764100000001,
  DiscogsStageTrackNumbers1764100000002,
  DiscogsStageBytes1764100000003,
  AudioFiles1764300000000,
  JobsAndKeys1764700000000,
  TrainingRuns1764800000000,
  ModelsEmbeddingsProbes1764900000000,
  ModelFingerprintUnique1764900000100,
  AudioFileClaims1764960000000,
  SearchTrigramBands1765000000000,
  TrigramOperatorCosts1765000000100,
  SearchDictionary1765100000000,
  SearchViews1765200000000,
  FinerSearchBands1765300000000,
  SearchWordIndexes1765400000000,
  SearchTransform1765500000000,
]
