import fs from 'node:fs'
import path from 'node:path'

export interface ReportFiles {
  markdown: string
  svg: string
  json: string
}

/** Writes `<base>.md`, `<base>.svg` and `<base>.json` into `dir` (made if missing); returns their paths. */
export function writeReportFiles(
  dir: string,
  base: string,
  content: { markdown: string; svg: string; json: unknown },
): ReportFiles {
  fs.mkdirSync(dir, { recursive: true })
  const files = {
    markdown: path.join(dir, `${base}.md`),
    svg: path.join(dir, `${base}.svg`),
    json: path.join(dir, `${base}.json`),
  }
  fs.writeFileSync(files.markdown, content.markdown)
  fs.writeFileSync(files.svg, content.svg)
  fs.writeFileSync(files.json, JSON.stringify(content.json, null, 2) + '\n')
  return files
}
