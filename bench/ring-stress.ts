// The ring under stress: run after run of real producer threads (1-6) and consumer threads (1-4)
// on rings of 16, 1024 and 65536 slots under every overflow strategy, consumers killed at random
// and taken over, some runs with consumers paused at the ring's preemption points. Each run ends
// with a drain and a check that nothing was lost, duplicated outside a handed-over claim or
// corrupted, that the counters add up and that the ring never stopped making progress.
// Usage: npx tsx bench/ring-stress.ts [--minutes N] [--seed S] [--stall-seconds N] [--run-seed R]
import { parseArgs } from 'node:util'
import { planRun, runPlan, type RunResult } from './ring-stress-run.js'

const HELP = `Usage: npx tsx bench/ring-stress.ts [--minutes N] [--seed S] [--stall-seconds N] [--run-seed R]

  --minutes N         how long to keep starting runs (default 1)
  --seed S            the seed every run's plan and kill times follow from (default: random, printed)
  --stall-seconds N   a run that commits nothing for this long while events wait fails (default 30)
  --run-seed R        replay the one run whose seed a report printed, and stop
  -h, --help          this help

Exit code 0 when every run passed, 1 when one failed, 2 for a bad flag.`

function parse(): { minutes: number; seed: number; stallSeconds: number; runSeed: number | undefined } | undefined {
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      options: { minutes: { type: 'string' }, seed: { type: 'string' }, 'stall-seconds': { type: 'string' }, 'run-seed': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }).values
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${HELP}`)
    process.exit(2)
  }
  if (values.help) {
    console.log(HELP)
    return undefined
  }
  const num = (name: string, dflt: number, ok: (x: number) => boolean): number => {
    const raw = values[name]
    if (raw === undefined) return dflt
    const x = Number(raw)
    if (!ok(x)) {
      console.error(`--${name} must be ${name.endsWith('seed') ? 'an integer from 0 to 2^32-1' : 'a positive number'}, got '${String(raw)}'`)
      process.exit(2)
    }
    return x
  }
  return {
    minutes: num('minutes', 1, (x) => x > 0),
    seed: num('seed', Math.floor(Math.random() * 2 ** 32), (x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32),
    stallSeconds: num('stall-seconds', 30, (x) => x > 0),
    runSeed: values['run-seed'] === undefined ? undefined : num('run-seed', 0, (x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32),
  }
}

const fmt = (x: number): string => x.toLocaleString('en-US')

async function main(): Promise<number> {
  const o = parse()
  if (o === undefined) return 0
  console.log(`ring stress: --minutes ${o.minutes} --seed ${o.seed} --stall-seconds ${o.stallSeconds} (Node ${process.version})`)
  const deadline = performance.now() + o.minutes * 60_000
  const results: RunResult[] = []
  for (let run = 0; ; run++) {
    const left = (deadline - performance.now()) / 1000
    if (o.runSeed === undefined ? left < 2 : run > 0) break
    // Each run's seed follows from the master seed and its index: a run can be replayed alone.
    const seed = o.runSeed ?? Math.imul((o.seed + Math.imul(run + 1, 0x9e3779b9)) | 0, 0x85ebca6b) >>> 0
    const plan = planRun(seed, o.runSeed === undefined ? left : Number.POSITIVE_INFINITY, o.stallSeconds)
    const t0 = performance.now()
    const r = await runPlan(plan)
    results.push(r)
    const p = r.plan
    console.log(
      `run ${run + 1} seed ${seed}: size ${p.size} ${p.overflowStrategy}, ${p.producers} producers, ${p.consumers} consumers` +
        `${p.pauseChance > 0 ? `, pauses ${p.pauseMs} ms at ${p.pauseChance * 100}% of preemption points` : ''}, ${((performance.now() - t0) / 1000).toFixed(1)} s:` +
        ` accepted ${fmt(r.accepted)}, delivered ${fmt(r.delivered)}, evicted ${fmt(r.evicted)}, refused ${fmt(r.refused)},` +
        ` kills ${r.kills}, handed over ${fmt(r.handedOver)}, stats samples ${fmt(r.samples)} -> ${r.failures.length === 0 ? 'ok' : 'FAILED'}`,
    )
    for (const f of r.failures) console.log(`  ${f}`)
  }
  const sum = (f: (r: RunResult) => number) => results.reduce((a, r) => a + f(r), 0)
  const failed = results.filter((r) => r.failures.length > 0)
  console.log(
    `\n${results.length} runs (seed ${o.seed}): ${fmt(sum((r) => r.accepted))} events accepted, ${fmt(sum((r) => r.delivered))} delivered, ` +
      `${fmt(sum((r) => r.evicted))} evicted, ${fmt(sum((r) => r.refused))} refusals, ${fmt(sum((r) => r.kills))} consumer kills, ` +
      `${fmt(sum((r) => r.handedOver))} events handed over. ${failed.length === 0 ? 'Every run passed.' : `${failed.length} runs FAILED (seeds ${failed.map((r) => r.plan.seed).join(', ')}).`}`,
  )
  return failed.length === 0 ? 0 : 1
}

process.exitCode = await main()
