// A dependency-free SVG line chart for the benchmark report: one series over time, axes with a few
// ticks, so decay or stalls in a long run are visible at a glance. Each chart carries CHART_MARK,
// so a script asked to write one over an existing file can tell its own charts from a user's file.

/** A comment inside every chart this module writes. */
export const CHART_MARK = '<!-- ringside bench chart -->'

/** Whether the file at `path` may be written as a chart: nothing there, or a chart written here. */
export function mayWriteChart(path: string, readHead: (path: string) => string | undefined): boolean {
  const head = readHead(path)
  return head === undefined || head.includes(CHART_MARK)
}

export function lineChart(o: { title: string; values: readonly number[]; xLabel: string; yLabel: string }): string {
  const W = 720
  const H = 300
  const L = 70
  const R = 20
  const T = 40
  const B = 45
  const max = Math.max(1, ...o.values)
  const yMax = niceCeil(max)
  const x = (i: number) => L + ((W - L - R) * i) / Math.max(1, o.values.length - 1)
  const y = (v: number) => T + (H - T - B) * (1 - v / yMax)
  const points = o.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * yMax)
  const step = Math.max(1, Math.round(o.values.length / 6))
  const xTicks = o.values.map((_, i) => i).filter((i) => i % step === 0)
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;')
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">
${CHART_MARK}
<rect width="${W}" height="${H}" fill="white"/>
<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${esc(o.title)}</text>
${yTicks.map((v) => `<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${Math.round(v).toLocaleString('en-US')}</text>`).join('\n')}
${xTicks.map((i) => `<text x="${x(i)}" y="${H - B + 16}" text-anchor="middle">${i + 1}</text>`).join('\n')}
<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="#333"/><line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="#333"/>
<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${points}"/>
<text x="${W / 2}" y="${H - 8}" text-anchor="middle">${esc(o.xLabel)}</text>
<text transform="translate(14 ${(H - B + T) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>
</svg>
`
}

function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p
  return 10 * p
}
