import { SaxesParser } from 'saxes'
import { describe, expect, it } from 'vitest'
import { groupedBarChartSvg } from '../../src/report/chart.ts'
import { markdownFigureTable } from '../../src/report/table.ts'

describe('markdownFigureTable', () => {
  it('prints percents with one decimal, bolds the best of each column and dashes missing figures', () => {
    const md = markdownFigureTable({
      corner: 'model',
      columns: ['styles ROC', 'styles PR'],
      rows: [
        { label: 'random weights', values: [0.5012, 0.031] },
        { label: 'artist | associations', values: [0.877, undefined] },
        { label: 'stack', values: [0.869, 0.194] },
      ],
    })
    const lines = md.trim().split('\n')
    expect(lines).toHaveLength(5)
    expect(lines[0]).toMatch(/^\| model +\| styles ROC \| styles PR \|$/)
    expect(lines[1]).toMatch(/^\|-+\|-+:\|-+:\|$/)
    expect(lines[2]).toMatch(/\| +50\.1 \| +3\.1 \|$/)
    expect(lines[3]).toMatch(/^\| artist \\\| associations \| +\*\*87\.7\*\* \| +- \|$/)
    expect(lines[4]).toMatch(/\| +86\.9 \| +\*\*19\.4\*\* \|$/)
  })

  it('bolds nothing in a column with a single figure', () => {
    const md = markdownFigureTable({
      corner: 'model',
      columns: ['a'],
      rows: [
        { label: 'x', values: [0.5] },
        { label: 'y', values: [Number.NaN] },
      ],
    })
    expect(md).not.toContain('**')
  })
})

describe('groupedBarChartSvg', () => {
  it('writes a well-formed SVG with one bar per figure, escaped text and a legend', () => {
    const svg = groupedBarChartSvg({
      title: 'Probe <evaluation> & more',
      groups: ['styles ROC', 'styles PR', 'decade Acc.'],
      series: [
        { name: 'random weights', values: [0.5, 0.03, 0.25] },
        { name: 'artist "associations"', values: [0.88, 0.2, undefined] },
      ],
    })
    const parser = new SaxesParser({ xmlns: true })
    let rects = 0
    let bars = 0
    const texts: string[] = []
    parser.on('opentag', (t) => {
      if (t.name === 'rect') rects++
      if (t.name === 'rect' && t.attributes.class?.value === 'bar') bars++
    })
    parser.on('text', (t) => texts.push(t))
    parser.write(svg).close()
    expect(bars).toBe(5)
    expect(rects).toBe(1 + 5 + 2) // background, bars, legend swatches
    expect(texts).toContain('Probe <evaluation> & more')
    expect(texts).toContain('artist "associations"')
    // a value of 0.88 is drawn 88 % of the plot's 260 px high
    expect(svg).toMatch(/height="228\.8"/)
  })
})
