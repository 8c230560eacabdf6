import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DEFAULT_SCENARIO, runScenario } from './scenario.ts'

// Several seeds per run: fixed ones (regressions stay caught) and one new each run.
const fresh = Number(process.env.SIM_SEED ?? (Date.now() % 1_000_000))
const seeds = [1, 2, fresh]

for (const seed of seeds) {
  test(`simulation: 50 nodes, breaks, partition, churn, 2 Byzantine (seed ${seed})`, { timeout: 600_000 }, () => {
    try {
      const report = runScenario({ ...DEFAULT_SCENARIO, seed })
      console.log(JSON.stringify(report))
      assert.notEqual(report.convergedAfterMs, null, 'honest nodes did not converge within 60 virtual seconds of the last heal')
      assert.ok(report.forkSeq !== null, 'no fork proof')
      assert.ok(report.disconnectsForMisbehaviour > 0, 'the attacker was never disconnected')
    } catch (err) {
      console.error(`SIMULATION FAILED: replay with SIM_SEED=${seed} npm run sim -- --seed ${seed}`)
      throw err
    }
  })
}

test('simulation: the same seed gives the same run, bit for bit', { timeout: 600_000 }, () => {
  const config = { ...DEFAULT_SCENARIO, seed: 42, nodes: 20, writes: 100 }
  const a = runScenario(config)
  const b = runScenario(config)
  assert.deepEqual(b, a)
})
