// Replays one simulation seed: npm run sim -- --seed 7 [--nodes 50] [--writes 300]
import { parseArgs } from 'node:util'
import { DEFAULT_SCENARIO, runScenario } from './scenario.ts'

const { values } = parseArgs({ options: { seed: { type: 'string', default: '1' }, nodes: { type: 'string' }, writes: { type: 'string' } } })
const seed = Number(values.seed)
const started = performance.now()
try {
  const report = runScenario({
    ...DEFAULT_SCENARIO,
    seed,
    ...(values.nodes !== undefined ? { nodes: Number(values.nodes) } : {}),
    ...(values.writes !== undefined ? { writes: Number(values.writes) } : {})
  })
  console.log(JSON.stringify({ ...report, wallMs: Math.round(performance.now() - started) }, null, 2))
} catch (err) {
  console.error(`SEED=${seed} failed:`, err)
  process.exitCode = 1
}
