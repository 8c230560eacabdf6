import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { TIME_MS_MAX } from '../../src/codec/index.ts'
import { keyPairFromSeed, peerIdOf, publicKeyFromPeerId } from '../../src/identity/index.ts'
import { eventually, ok } from './harness.ts'
import { forgedStatusBench } from './forged-status.ts'
import type { ForgedStatusBench } from './forged-status.ts'

/**
 * A status record's own clock is held to 60 s of skew; the times inside its body must not be later than it either.
 * A member dates its accusation of the honest node A and its alert in the year 10889 (TIME_MS_MAX), in a record made
 * now: the daemon names both as bad fields and drops them, and the page shows them as unknown ("—"), not "0 s ago"
 * at the top of the misbehaviour log for ever.
 */
const liar = keyPairFromSeed(new Uint8Array(32).fill(78))
let bench: ForgedStatusBench

before(async () => { bench = await forgedStatusBench([liar]) })
after(async () => { await bench?.close() })

test('times after the record\'s own clock are bad fields, shown as unknown (misbehaviour, alerts)', { timeout: 300_000 }, async () => {
  const { a, page } = bench
  const body = { v: 1, n: 'liar', ver: '1', st: TIME_MS_MAX, p: 3_600_000, ld: [0, 0, 0], cpu: 1, mem: [1, 1, 1], dk: null, t: null,
    ln: [], sp: [], fo: [], io: [0, 0, 0, 0],
    mb: [[publicKeyFromPeerId(a.peerId), 'sent forged entries', 100, TIME_MS_MAX]],
    al: [['disk-full', '/data', 'forged', TIME_MS_MAX]] }
  await bench.send([{ author: liar, body }])
  const liarId = peerIdOf(liar.publicKey)
  const map = await eventually('A holds the liar up', () => ok(a.dir, 'net') as any, m => m.nodes.some((n: any) => n.peerId === liarId && n.up))
  const node = map.nodes.find((n: any) => n.peerId === liarId)
  assert.match(node.reasons.join('; '), /malformed status fields: st \(after the record\), mb\[0\]\.at \(after the record\), al\[0\]\.since/)
  assert.deepEqual([node.report.startedMs, node.report.misbehaviour[0].atMs, node.report.alerts[0].sinceMs], [0, 0, 0])

  await page.goto(ok(a.dir, 'dashboard').url as string)
  const v = await eventually('the page shows the accusation and the alert', async () => await page.evaluate(() => {
    const d = (globalThis as any).document
    const first = (id: string): string[] => [...(d.querySelector(`[data-testid="${id}"] tbody tr`)?.cells ?? [])]
      .map((c: any) => (c.textContent as string).replace(/\s+/g, ' ').trim())
    return { misbehaviour: first('misbehaviour'), alert: first('alerts') }
  }), v => v.misbehaviour.length > 0 && v.alert.length > 0)
  assert.deepEqual({ misbehaviourWhen: v.misbehaviour[0], alertSince: v.alert[0] }, { misbehaviourWhen: '—', alertSince: '—' })
})
