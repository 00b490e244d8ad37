import fs from 'node:fs'
import path from 'node:path'
import { threadId } from 'node:worker_threads'
import { MEL_BANDS } from './mel.ts'
import { PATCH_FRAMES } from './patches.ts'

/**
 * Mel frames on disk, one file per distinct audio content (sha256), under DATA_DIR/features/ab/<sha>.mel:
 *   16-byte header: "DGMEL\0" + u16 version + u32 frames + u32 bands, then float32 LE frames [frames][96].
 * Frames are kept rather than patches: a patch at any hop is a contiguous byte range of the frames, so one
 * `read` at an offset fetches it, and changing the patch hop needs no recomputation. Files are written to a
 * temporary name and renamed, so a crash never leaves a partial one. See docs/audio-store.md for why this
 * is on disk and not in Postgres.
 */
const MAGIC = Buffer.from('DGMEL\0', 'latin1')
const VERSION = 1
const HEADER = 16
const PATCH_BYTES = PATCH_FRAMES * MEL_BANDS * 4

let tmpSeq = 0

/** Whether a process of this id runs on this host (signal 0 checks without sending anything). */
function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' // runs, as another user
  }
}

export interface FeatureWriter {
  /** frames × 96 values, appended after those already written */
  append(frames: Float32Array): void
  /** writes the frame count into the header and closes; the file is still under its temporary name */
  finish(): { tempFile: string; nFrames: number }
  /** closes and deletes the temporary file */
  abort(): void
}

export class FeatureStoreError extends Error {
  constructor(file: string, reason: string) {
    super(`${file}: ${reason}`)
    this.name = 'FeatureStoreError'
  }
}

export class FeatureStore {
  readonly root: string
  // A Map, not lru-cache: over more files than are kept open (training over a catalog) lru-cache cost 3–6%
  // more CPU per patch read, and the same with fewer (bench/caches.ts).
  private readonly fds = new Map<string, number>()
  private readonly maxOpen = 64

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'features')
  }

  pathOf(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new FeatureStoreError(sha256, 'not a sha256 hex digest')
    return path.join(this.root, sha256.slice(0, 2), `${sha256}.mel`)
  }

  has(sha256: string): boolean {
    return fs.existsSync(this.pathOf(sha256))
  }

  write(sha256: string, frames: Float32Array, nFrames: number): void {
    if (frames.length < nFrames * MEL_BANDS)
      throw new FeatureStoreError(sha256, 'fewer values than frames × bands')
    const w = this.writer(sha256)
    try {
      w.append(frames.subarray(0, nFrames * MEL_BANDS))
      this.adopt(sha256, w.finish())
    } catch (err) {
      w.abort()
      throw err
    }
  }

  /**
   * A file of frames written as they are computed (a streamed decode appends each chunk's frames), under a
   * temporary name unique to this process and thread; `adopt` renames it into place once complete.
   */
  writer(sha256: string): FeatureWriter {
    const file = this.pathOf(sha256)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    const tmp = `${file}.${process.pid}.${threadId}.${tmpSeq++}.tmp`
    const fd = fs.openSync(tmp, 'w')
    const header = Buffer.alloc(HEADER)
    MAGIC.copy(header, 0)
    header.writeUInt16LE(VERSION, 6)
    header.writeUInt32LE(MEL_BANDS, 12)
    let pos = HEADER
    let closed = false
    const close = () => {
      if (!closed) fs.closeSync(fd)
      closed = true
    }
    return {
      append(frames: Float32Array) {
        if (frames.length % MEL_BANDS) throw new FeatureStoreError(tmp, 'values not a whole number of frames')
        const body = Buffer.from(frames.buffer, frames.byteOffset, frames.byteLength)
        for (let o = 0; o < body.length;) o += fs.writeSync(fd, body, o, body.length - o, pos + o)
        pos += body.length
      },
      finish() {
        const nFrames = (pos - HEADER) / (MEL_BANDS * 4)
        header.writeUInt32LE(nFrames, 8)
        fs.writeSync(fd, header, 0, HEADER, 0)
        close()
        return { tempFile: tmp, nFrames }
      },
      abort() {
        close()
        fs.rmSync(tmp, { force: true })
      },
    }
  }

  /** Moves a finished writer's file into place for `sha256` (atomically: a reader sees all or nothing). */
  adopt(sha256: string, done: { tempFile: string }): void {
    fs.renameSync(done.tempFile, this.pathOf(sha256))
  }

  /**
   * Deletes temporary files no writer will finish: those of a thread of this process that died (`thread`),
   * and those of a process that is gone. A writer appends as it decodes, so a file a live writer holds is
   * never idle for long: another process's file is removed when its process is not running here and it has
   * been idle 30 s (a writer on another host sharing DATA_DIR keeps it fresh), and any file idle an hour is
   * removed whatever its name says. Returns the paths removed. Run before an import and when a thread dies.
   */
  sweepTemporaryFiles(opts: { thread?: number; now?: number } = {}): string[] {
    const now = opts.now ?? Date.now()
    const removed: string[] = []
    let dirs: string[]
    try {
      dirs = fs.readdirSync(this.root)
    } catch {
      return removed // no store yet
    }
    for (const dir of dirs) {
      if (!/^[0-9a-f]{2}$/.test(dir)) continue
      for (const name of fs.readdirSync(path.join(this.root, dir))) {
        const m = /^[0-9a-f]{64}\.mel\.(\d+)\.(\d+)\.\d+\.tmp$/.exec(name)
        if (!m) continue
        const file = path.join(this.root, dir, name)
        const [pid, thread] = [Number(m[1]), Number(m[2])]
        let idleMs: number
        try {
          idleMs = now - fs.statSync(file).mtimeMs
        } catch {
          continue // finished or removed meanwhile
        }
        const ownDeadThread = pid === process.pid && thread === opts.thread
        const goneProcess = pid !== process.pid && !processRuns(pid) && idleMs > 30_000
        if (ownDeadThread || goneProcess || idleMs > 3_600_000) {
          fs.rmSync(file, { force: true })
          removed.push(file)
        }
      }
    }
    return removed
  }

  /** Deletes a finished writer's file that is not needed (the content was stored meanwhile). */
  discard(done: { tempFile: string }): void {
    fs.rmSync(done.tempFile, { force: true })
  }

  private checkHeader(sha256: string, h: Buffer): number {
    if (
      h.length < HEADER ||
      !h.subarray(0, 6).equals(MAGIC) ||
      h.readUInt16LE(6) !== VERSION ||
      h.readUInt32LE(12) !== MEL_BANDS
    ) {
      throw new FeatureStoreError(this.pathOf(sha256), 'not a Discograph mel file (or another version)')
    }
    return h.readUInt32LE(8)
  }

  readFrames(sha256: string): { frames: Float32Array; nFrames: number } {
    const buf = fs.readFileSync(this.pathOf(sha256))
    const nFrames = this.checkHeader(sha256, buf)
    const frames = new Float32Array(nFrames * MEL_BANDS)
    const body = buf.subarray(HEADER, HEADER + frames.byteLength)
    if (body.length !== frames.byteLength) throw new FeatureStoreError(this.pathOf(sha256), 'truncated')
    Buffer.from(frames.buffer).set(body)
    return { frames, nFrames }
  }

  /**
   * Patch `index` at `hop` into `out` (128 × 96 floats at `outOffset`), zero-padding past the last frame
   * (audio shorter than one patch). One positioned read per patch.
   */
  readPatchInto(
    sha256: string,
    nFrames: number,
    index: number,
    hop: number,
    out: Float32Array,
    outOffset = 0,
  ): void {
    const fd = this.open(sha256)
    const firstFrame = index * hop
    const frames = Math.max(0, Math.min(PATCH_FRAMES, nFrames - firstFrame))
    const target = Buffer.from(out.buffer, out.byteOffset + outOffset * 4, PATCH_BYTES)
    const got = frames
      ? fs.readSync(fd, target, 0, frames * MEL_BANDS * 4, HEADER + firstFrame * MEL_BANDS * 4)
      : 0
    if (got !== frames * MEL_BANDS * 4)
      throw new FeatureStoreError(this.pathOf(sha256), `short read at frame ${firstFrame}`)
    target.fill(0, got)
  }

  private open(sha256: string): number {
    let fd = this.fds.get(sha256)
    if (fd !== undefined) {
      this.fds.delete(sha256) // re-insert: Map order doubles as LRU order
      this.fds.set(sha256, fd)
      return fd
    }
    try {
      fd = fs.openSync(this.pathOf(sha256), 'r')
    } catch (err) {
      throw new FeatureStoreError(this.pathOf(sha256), (err as Error).message)
    }
    this.fds.set(sha256, fd)
    if (this.fds.size > this.maxOpen) {
      const [oldest, ofd] = this.fds.entries().next().value as [string, number]
      fs.closeSync(ofd)
      this.fds.delete(oldest)
    }
    return fd
  }

  close(): void {
    for (const fd of this.fds.values()) fs.closeSync(fd)
    this.fds.clear()
  }
}
