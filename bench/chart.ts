// A dependency-free SVG line chart for the benchmark report: one series over time (and optionally
// its averages per window, horizontal reference lines and a note under the chart), axes with
// ticks, so decay or stalls in a long run are visible at a glance. Each chart carries CHART_MARK,
// so a script asked to write one over an existing file can tell its own charts from a user's file.

/** A comment inside every chart this module writes. */
export const CHART_MARK = '<!-- ringside bench chart -->'

/** Whether the file at `path` may be written as a chart: nothing there, or a chart written here. */
export function mayWriteChart(path: string, readHead: (path: string) => string | undefined): boolean {
  const head = readHead(path)
  return head === undefined || head.includes(CHART_MARK)
}

/** A horizontal line at `value` (a rate to compare with), labelled at its right end. */
export interface RefLine {
  readonly label: string
  readonly value: number
  readonly color: string
}

export function lineChart(o: {
  title: string
  values: readonly number[]
  xLabel: string
  yLabel: string
  /** Averages of `values` over consecutive windows of `window` samples, drawn as steps (the figures a text quotes). */
  window?: number
  refs?: readonly RefLine[]
  /** One or two sentences under the chart (what a dip means, say). */
  note?: string
  /** An x tick at every multiple of this many samples (and at the last one). */
  xTickEvery?: number
}): string {
  const W = 760
  const noteLines = o.note === undefined ? [] : wrap(o.note, 110)
  const H = 320 + noteLines.length * 16
  const L = 70
  const R = 150
  const T = 40
  const B = 45 + noteLines.length * 16
  const n = o.values.length
  const max = Math.max(1, ...o.values, ...(o.refs ?? []).map((r) => r.value))
  const yMax = niceCeil(max)
  // Sample i covers second i..i+1: plot it at its end, so the axis reads in seconds from 0.
  const x = (t: number) => L + ((W - L - R) * t) / Math.max(1, n)
  const y = (v: number) => T + (H - T - B) * (1 - v / yMax)
  const points = o.values.map((v, i) => `${x(i + 1).toFixed(1)},${y(v).toFixed(1)}`).join(' ')
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * yMax)
  const every = o.xTickEvery ?? Math.max(1, Math.round(n / 6))
  const xTicks = [0]
  for (let t = every; t < n; t += every) xTicks.push(t)
  if (xTicks[xTicks.length - 1] !== n) xTicks.push(n)
  const steps: string[] = []
  if (o.window !== undefined && o.window > 1) {
    for (let i = 0; i + o.window <= n; i += o.window) {
      const avg = o.values.slice(i, i + o.window).reduce((a, b) => a + b, 0) / o.window
      steps.push(`<line x1="${x(i).toFixed(1)}" x2="${x(i + o.window).toFixed(1)}" y1="${y(avg).toFixed(1)}" y2="${y(avg).toFixed(1)}" stroke="#d62728" stroke-width="2.5"/>`)
    }
  }
  const refs = (o.refs ?? []).map(
    (r) =>
      `<line x1="${L}" x2="${W - R}" y1="${y(r.value).toFixed(1)}" y2="${y(r.value).toFixed(1)}" stroke="${r.color}" stroke-dasharray="6 4" stroke-width="1.5"/><text x="${W - R + 6}" y="${(y(r.value) + 4).toFixed(1)}" fill="${r.color}">${esc(r.label)}</text>`,
  )
  const legend = o.window !== undefined && o.window > 1 ? `<text x="${W - R + 6}" y="${T + 10}" fill="#1f77b4">per second</text><text x="${W - R + 6}" y="${T + 26}" fill="#d62728">${o.window}-s average</text>` : ''
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">
${CHART_MARK}
<rect width="${W}" height="${H}" fill="white"/>
<text x="${(W - R + L) / 2}" y="22" text-anchor="middle" font-size="14">${esc(o.title)}</text>
${yTicks.map((v) => `<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${Math.round(v).toLocaleString('en-US')}</text>`).join('\n')}
${xTicks.map((t) => `<line x1="${x(t)}" x2="${x(t)}" y1="${H - B}" y2="${H - B + 4}" stroke="#333"/><text x="${x(t)}" y="${H - B + 16}" text-anchor="middle">${t}</text>`).join('\n')}
<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="#333"/><line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="#333"/>
${refs.join('\n')}
<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="${points}"/>
${steps.join('\n')}
${legend}
<text x="${(W - R + L) / 2}" y="${H - B + 32}" text-anchor="middle">${esc(o.xLabel)}</text>
<text transform="translate(14 ${(H - B + T) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>
${noteLines.map((line, i) => `<text x="${L}" y="${H - B + 52 + i * 16}">${esc(line)}</text>`).join('\n')}
</svg>
`
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;')

/** Splits text into lines of at most `width` characters, at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line === '' ? word : `${line} ${word}`
  }
  if (line !== '') lines.push(line)
  return lines
}

function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p
  return 10 * p
}
