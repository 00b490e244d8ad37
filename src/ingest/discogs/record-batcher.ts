import type { ParsedBatch } from './dump-reader.ts'
import { RECORD_ELEMENT, parseRecord, recordId, type DumpType } from './records.ts'
import type { RecordHandler, StreamedRecord } from './record-stream.ts'
import { StagingBatch, type BatchCarry, type Encoding } from './staging-batch.ts'

export interface BatchOptions {
  encoding: Encoding
  /** YYYYMMDD of the dump: new records are written with it as first and last seen */
  dumpDate: string
  /** a batch is cut after this many records, and at this many bytes of encoded rows */
  batchRecords: number
  batchChars: number
}

/**
 * Parses record trees into encoded staging batches, skipping the first `skip` records (a resumed run).
 * A batch is also cut before a record id it already holds: two versions of one record cannot be merged
 * in one statement. `carry` passes what one batch hands on to the next.
 */
export class RecordBatcher implements RecordHandler<ParsedBatch[]> {
  private readonly recordElement: string
  private batch: StagingBatch
  private out: ParsedBatch[] = []
  private skippedNoId = 0
  private skippedResume = 0
  private lastGoodId: number | undefined
  private unknown: Record<string, number> = {}
  private readonly countUnknown = (p: string) => {
    this.unknown[p] = (this.unknown[p] ?? 0) + 1
  }

  constructor(
    private readonly type: DumpType,
    private readonly opts: BatchOptions,
    private readonly carry: BatchCarry,
    private readonly bytesRead: () => number,
    private skip = 0,
  ) {
    this.recordElement = RECORD_ELEMENT[type]
    this.batch = this.newBatch()
  }

  record({ node }: StreamedRecord): ParsedBatch[] | null {
    if (node.name !== this.recordElement) {
      this.countUnknown(`${this.type}/${node.name}`)
      return null
    }
    if (this.skip > 0) {
      this.skip--
      this.skippedResume++
      this.lastGoodId = recordId(node) ?? this.lastGoodId
      return null
    }
    const rec = parseRecord(this.type, node, this.countUnknown)
    if (rec === null) {
      this.skippedNoId++
      return null
    }
    if (this.batch.has(rec.record.id)) this.emit()
    this.batch.add(rec)
    this.lastGoodId = rec.record.id
    if (this.batch.records >= this.opts.batchRecords || this.batch.size >= this.opts.batchChars) this.emit()
    return this.take()
  }

  flush(): ParsedBatch[] | null {
    const b = this.batch
    if (
      b.records > 0 ||
      this.skippedNoId > 0 ||
      this.skippedResume > 0 ||
      Object.keys(this.unknown).length > 0
    )
      this.emit()
    return this.take()
  }

  private take(): ParsedBatch[] | null {
    if (this.out.length === 0) return null
    const out = this.out
    this.out = []
    return out
  }

  private newBatch(): StagingBatch {
    return new StagingBatch(this.type, this.opts.encoding, this.opts.dumpDate, this.carry)
  }

  private emit(): void {
    const b = this.batch
    this.out.push({
      ...b.take(),
      bytesRead: this.bytesRead(),
      skippedNoId: this.skippedNoId,
      skippedResume: this.skippedResume,
      droppedRows: b.droppedRows,
      unknown: this.unknown,
      ...(this.lastGoodId !== undefined ? { lastGoodId: this.lastGoodId } : {}),
    })
    this.batch = this.newBatch()
    this.skippedNoId = this.skippedResume = 0
    this.unknown = {}
  }
}
