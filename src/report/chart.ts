/**
 * A grouped bar chart as a standalone SVG document, written by hand (no charting dependency): one group per
 * column of the evaluation table, one bar per model, values in percent on a shared 0–100 axis.
 */

export interface BarChart {
  title: string
  groups: string[]
  series: { name: string; values: (number | undefined)[] }[]
}

/** Colour-blind-safe palette (Okabe–Ito), then greys. */
const PALETTE = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#CC79A7',
  '#56B4E9',
  '#D55E00',
  '#F0E442',
  '#000000',
  '#777777',
  '#BBBBBB',
]

export function groupedBarChartSvg(chart: BarChart): string {
  const bar = 14
  const gap = 18
  const groupWidth = Math.max(1, chart.series.length) * bar + gap
  const left = 48
  const top = 40
  const plotHeight = 260
  const legendWidth = 40 + Math.max(60, ...chart.series.map((s) => s.name.length * 7))
  const plotWidth = Math.max(200, chart.groups.length * groupWidth)
  const width = left + plotWidth + 20 + legendWidth
  const height = top + plotHeight + 90
  const y = (v: number) => top + plotHeight - Math.min(Math.max(v, 0), 1) * plotHeight
  const out: string[] = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
  )
  out.push(`<title>${xml(chart.title)}</title>`)
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`)
  out.push(`<text x="${left}" y="22" font-size="14" font-weight="bold">${xml(chart.title)}</text>`)
  for (let p = 0; p <= 100; p += 20) {
    const yy = y(p / 100)
    out.push(`<line x1="${left}" y1="${yy}" x2="${left + plotWidth}" y2="${yy}" stroke="#e0e0e0"/>`)
    out.push(`<text x="${left - 6}" y="${yy + 4}" text-anchor="end" fill="#555">${p}</text>`)
  }
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotHeight}" stroke="#333"/>`)
  out.push(
    `<line x1="${left}" y1="${top + plotHeight}" x2="${left + plotWidth}" y2="${top + plotHeight}" stroke="#333"/>`,
  )
  chart.groups.forEach((g, gi) => {
    const x0 = left + gi * groupWidth + gap / 2
    chart.series.forEach((s, si) => {
      const v = s.values[gi]
      if (v === undefined || !Number.isFinite(v)) return
      const x = x0 + si * bar
      const yy = y(v)
      const h = top + plotHeight - yy
      out.push(
        `<rect class="bar" x="${x}" y="${yy.toFixed(1)}" width="${bar - 2}" height="${h.toFixed(1)}" fill="${PALETTE[si % PALETTE.length]}"><title>${xml(`${s.name} — ${g}: ${(v * 100).toFixed(1)}`)}</title></rect>`,
      )
    })
    const cx = x0 + (chart.series.length * bar) / 2
    out.push(
      `<text x="${cx}" y="${top + plotHeight + 14}" text-anchor="end" transform="rotate(-35 ${cx} ${top + plotHeight + 14})">${xml(g)}</text>`,
    )
  })
  const lx = left + plotWidth + 20
  chart.series.forEach((s, si) => {
    const ly = top + si * 18
    out.push(`<rect x="${lx}" y="${ly}" width="12" height="12" fill="${PALETTE[si % PALETTE.length]}"/>`)
    out.push(`<text x="${lx + 18}" y="${ly + 10}">${xml(s.name)}</text>`)
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}
