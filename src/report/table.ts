/**
 * Figures as a Markdown table in the paper's layout: one row per model, one column per task and metric,
 * values in percent with one decimal, the best of each column in bold, `-` where there is no figure.
 */

export interface FigureTable {
  /** Header of the first column (the row labels). */
  corner: string
  columns: string[]
  rows: { label: string; values: (number | undefined)[] }[]
}

export function percent(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '-' : (v * 100).toFixed(1)
}

export function markdownFigureTable(t: FigureTable): string {
  const best = t.columns.map((_, c) => {
    const values = t.rows
      .map((r) => r.values[c])
      .filter((v): v is number => v !== undefined && Number.isFinite(v))
    // one row has nothing to be best against
    return values.length > 1 ? Math.max(...values) : undefined
  })
  const cells = t.rows.map((r) => [
    escapeCell(r.label),
    ...t.columns.map((_, c) => {
      const text = percent(r.values[c])
      return best[c] !== undefined && text !== '-' && text === percent(best[c]) ? `**${text}**` : text
    }),
  ])
  const header = [escapeCell(t.corner), ...t.columns.map(escapeCell)]
  const widths = header.map((h, c) => Math.max(h.length, 3, ...cells.map((row) => row[c].length)))
  const line = (row: string[]) =>
    `| ${row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join(' | ')} |`
  const rule = `|${widths.map((w, c) => (c === 0 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`
  return [line(header), rule, ...cells.map(line)].join('\n') + '\n'
}

function escapeCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}
