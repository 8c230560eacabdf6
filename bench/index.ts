/**
 * npm run bench [-- --quick]: every benchmark of the core, one JSON document
 * on stdout (progress on stderr). Ratios are measured side by side in this
 * one run. Benchmarks, not tests: nothing here asserts on time.
 */
import os from 'node:os'
import { parseArgs } from 'node:util'
import { benchValidate } from './validate.ts'
import { benchSpread } from './spread.ts'
import { benchCatchupMetadata } from './catchup-metadata.ts'

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } } })
const quick = values.quick === true
const only = values.only
const started = performance.now()
const log = (msg: string): void => { process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0)}s] ${msg}\n`) }
const result: Record<string, unknown> = {
  machine: { node: process.version, cpu: os.cpus()[0]?.model, cores: os.cpus().length, loadAverage: os.loadavg(), quick }
}

if (only === undefined || only === 'validate') {
  log('validate: signatures, catch-up and live ingest on one core')
  result.validate = await benchValidate({ entries: quick ? 20_000 : 100_000, repeats: quick ? 1 : 3 })
}
if (only === undefined || only === 'spread') {
  const nodes = quick ? 200 : 1000
  log(`spread: one write to ${nodes} simulated nodes, next to naive flooding`)
  result.spread = benchSpread({ nodes, writes: 5, seed: 1 })
}
if (only === undefined || only === 'catchup') {
  const rows: Record<string, unknown>[] = []
  for (const writers of quick ? [10, 100] : [10, 100, 1000]) {
    for (const entries of [10, 1000]) {
      log(`catch-up metadata: ${writers} writers x ${entries} entries`)
      rows.push(benchCatchupMetadata(writers, entries))
    }
  }
  result.catchupMetadata = {
    rows,
    note: 'metadataBytes = every message but the entries themselves, both directions; it must grow with writers, not with entries'
  }
}
result.benchSeconds = Math.round((performance.now() - started) / 1000)
console.log(JSON.stringify(result, null, 2))
