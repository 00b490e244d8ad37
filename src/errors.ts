/**
 * One class per failure kind. Each carries what it concerns (file, record, id) so that the CLI and the
 * GraphQL layer can report it precisely; GraphQL maps `code` to `extensions.code` in one place.
 */
export abstract class DiscographError extends Error {
  abstract readonly code: string
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
  }
}

export class NotFoundError extends DiscographError {
  readonly code = 'NOT_FOUND'
  constructor(
    readonly entity: string,
    readonly id: string | number,
  ) {
    super(`${entity} ${id} not found`)
  }
}

export class BadInputError extends DiscographError {
  readonly code = 'BAD_USER_INPUT'
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(field ? `${field}: ${message}` : message)
  }
}

export class DatabaseSetupError extends DiscographError {
  readonly code = 'DATABASE_SETUP'
}

/** A server database whose schema lacks migrations this code needs; only `db migrate` (or `--migrate`) applies them. */
export class MigrationsPendingError extends DiscographError {
  readonly code = 'MIGRATIONS_PENDING'
  constructor(readonly pending: string[]) {
    super(
      `the database lacks ${pending.length} schema migration${pending.length === 1 ? '' : 's'} (${pending.join(', ')}); ` +
        'run `discograph db migrate` first, or start `serve` or `worker` with --migrate (over a loaded catalog it can take minutes)',
    )
  }
}

/** A capability that is briefly out of service (search while an import rebuilds its views); try again later. */
export class UnavailableError extends DiscographError {
  readonly code = 'UNAVAILABLE'
}

/** Where in a dump file something went wrong; every field that is known is reported. */
export interface DumpLocation {
  /** byte offset in the (decompressed) XML text, or in the compressed file for gzip errors */
  byteOffset?: number
  /** 1-based number of the record being read when it failed */
  record?: number
  /** Discogs id of the record being read, or else of the last record read whole */
  id?: number | string
  /** the last record read whole before the failure */
  lastGoodId?: number | string
}

/** A Discogs dump that cannot be read: truncated gzip, malformed XML, or not a Discogs dump at all. */
export class DumpFormatError extends DiscographError {
  readonly code = 'DUMP_FORMAT'
  constructor(
    readonly file: string,
    readonly where: DumpLocation,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    const at = [
      where.record !== undefined ? `record #${where.record}` : undefined,
      where.id !== undefined ? `id ${where.id}` : undefined,
      where.lastGoodId !== undefined ? `after id ${where.lastGoodId}` : undefined,
      where.byteOffset !== undefined ? `byte ${where.byteOffset}` : undefined,
    ].filter(Boolean)
    super(`${file}${at.length ? ` (${at.join(', ')})` : ''}: ${reason}`, options)
  }
}

/** A model, weight file or input tensor whose shape does not match what the model expects. */
export class ModelShapeError extends DiscographError {
  readonly code = 'MODEL_SHAPE'
  constructor(
    readonly what: string,
    readonly reason: string,
  ) {
    super(`${what}: ${reason}`)
  }
}

/** A TensorFlow.js backend that was asked for and cannot be used (not installed, failed to load or build). */
export class MlBackendError extends DiscographError {
  readonly code = 'ML_BACKEND'
  constructor(
    readonly backend: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`ML backend ${backend}: ${reason}`, options)
  }
}

/** An audio file that cannot be decoded: corrupt, truncated, or in an unsupported format. */
export class AudioDecodeError extends DiscographError {
  readonly code = 'AUDIO_DECODE'
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: cannot decode audio: ${reason}`)
  }
}

/**
 * An embedding that came out with NaN or ±Infinity in it: never written (pgvector refuses it, and no
 * distance to it means anything). Names the model, the track and its audio file, so the file can be checked.
 */
export class NonFiniteEmbeddingError extends DiscographError {
  readonly code = 'NON_FINITE_EMBEDDING'
  constructor(
    readonly model: string,
    readonly space: string,
    readonly track: { id: number; title: string | null; path: string | null },
    readonly index: number,
    readonly value: number,
  ) {
    super(
      `model ${model} gave track ${track.id} ${track.title === null ? '(untitled)' : JSON.stringify(track.title)} ` +
        `(${track.path ?? 'no audio file'}) a ${space} vector with ${value} at dimension ${index}; ` +
        `nothing of this batch was written`,
    )
  }
}
