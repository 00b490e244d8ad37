import fs from 'node:fs/promises'
import path from 'node:path'
import { AUDIO_EXTENSIONS } from '../../audio/decode.ts'
import { BadInputError } from '../../errors.ts'

export interface ScannedFile {
  /** absolute */
  path: string
  size: number
  mtimeMs: number
}

const EXTENSIONS = new Set(AUDIO_EXTENSIONS)

/**
 * Audio files under `dir`, recursively, sorted by path. Symbolic links are followed (a folder reached
 * twice, by a loop or two links, is read once); hidden entries are skipped: macOS leaves `._name.mp3`
 * resource forks beside the real files, and they are not audio.
 */
export async function scanAudioFiles(dir: string): Promise<ScannedFile[]> {
  const root = path.resolve(dir)
  let st
  try {
    st = await fs.stat(root)
  } catch (err) {
    throw new BadInputError(
      `cannot read ${root}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      'dir',
    )
  }
  if (!st.isDirectory()) throw new BadInputError(`${root} is not a directory`, 'dir')

  const files: ScannedFile[] = []
  const seenDirs = new Set<string>()
  const walk = async (folder: string): Promise<void> => {
    const real = await fs.realpath(folder)
    if (seenDirs.has(real)) return
    seenDirs.add(real)
    const entries = await fs.readdir(folder, { withFileTypes: true })
    for (const e of entries) {
      if (e.name.startsWith('.')) continue
      const full = path.join(folder, e.name)
      let isDir = e.isDirectory()
      let isFile = e.isFile()
      if (e.isSymbolicLink()) {
        const target = await fs.stat(full).catch(() => null)
        if (!target) continue // dangling
        isDir = target.isDirectory()
        isFile = target.isFile()
      }
      if (isDir) await walk(full)
      else if (isFile && EXTENSIONS.has(path.extname(e.name).toLowerCase())) {
        const s = await fs.stat(full)
        files.push({ path: full, size: s.size, mtimeMs: s.mtimeMs })
      }
    }
  }
  await walk(root)
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}
