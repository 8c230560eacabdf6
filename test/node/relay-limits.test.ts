import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { readConfig } from '../../src/node/index.ts'

/** config.json's "relay": defaults when absent, each field bounded, a typo named. */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-relay-limits-'))
const withConfig = (relay: unknown): ReturnType<typeof readConfig> => {
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ relay }))
  return readConfig(dir)
}

test('config.json "relay": absent is no override; given fields replace the defaults, the rest stay', () => {
  fs.writeFileSync(path.join(dir, 'config.json'), '{}')
  assert.equal(readConfig(dir).relay, undefined)
  assert.deepEqual(withConfig({ circuitMiB: 64, serve: false }),
    { ...readConfigWithout(), relay: { serve: false, maxReservations: 32, circuitsPerPeer: 8, circuitMiB: 64, circuitMinutes: 60, maxMiBps: 16 } })
})

test('config.json "relay": out of bounds, not a number, or unknown is refused with the field named', () => {
  const bad: [unknown, RegExp][] = [
    [{ maxReservations: -1 }, /"relay.maxReservations" must be a whole number from 0 to 1024/],
    [{ circuitMiB: 0 }, /"relay.circuitMiB" must be a whole number from 1/],
    [{ circuitMinutes: 1.5 }, /"relay.circuitMinutes"/],
    [{ circuitsPerPeer: '8' }, /"relay.circuitsPerPeer"/],
    [{ maxMiBps: -1 }, /"relay.maxMiBps" must be a whole number from 0/],
    [{ serve: 'yes' }, /"relay.serve" must be true or false/],
    [{ maxReservation: 3 }, /"relay" has unknown field "maxReservation"/],
    [[], /"relay" must be an object/]
  ]
  for (const [relay, message] of bad) {
    assert.throws(() => withConfig(relay), (err: Error & { code?: string }) =>
      err.code === 'BAD_CONFIG' && message.test(err.message), JSON.stringify(relay))
  }
})

function readConfigWithout (): object {
  fs.writeFileSync(path.join(dir, 'config.json'), '{}')
  return readConfig(dir)
}

test.after(() => { fs.rmSync(dir, { recursive: true, force: true }) })
