import { test } from 'node:test'
import assert from 'node:assert/strict'
import { REDIAL_BACKOFF, RedialSchedule } from '../../src/net/redial.ts'

/**
 * The redial schedule on plain data: the clock is a number and the
 * randomness a function, so every wait is known exactly.
 */
const noJitter = (): RedialSchedule => new RedialSchedule(REDIAL_BACKOFF, () => 0)

test('a new peer is due at once; each failure doubles the wait from 1 s up to the 5 min cap', () => {
  const s = noJitter()
  let now = 1_000_000
  s.add('a', now)
  assert.equal(s.nextDueMs(), now)
  const waits: number[] = []
  for (let i = 0; i < 12; i++) {
    assert.deepEqual(s.take(now, 8), ['a'])
    s.failed('a', now)
    const due = s.nextDueMs() as number
    waits.push(due - now)
    assert.deepEqual(s.take(due - 1, 8), [], 'not before its time')
    now = due
  }
  assert.deepEqual(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300].map(s => s * 1000))
})

test('jitter takes off up to half of each wait, never more, never adds', () => {
  const low = new RedialSchedule(REDIAL_BACKOFF, () => 0.999_999)
  const mid = new RedialSchedule(REDIAL_BACKOFF, () => 0.5)
  for (const failures of [1, 2, 5, 9, 10, 40]) {
    const full = Math.min(300_000, 1000 * 2 ** (failures - 1))
    assert.equal(noJitter().waitMs(failures), full)
    assert.equal(mid.waitMs(failures), full * 0.75)
    assert.ok(low.waitMs(failures) >= full / 2 && low.waitMs(failures) < full * 0.51, `${failures}: ${low.waitMs(failures)}`)
  }
})

test('a peer being dialled is not handed out again until its dial ends', () => {
  const s = noJitter()
  s.add('a', 0)
  assert.deepEqual(s.take(0, 8), ['a'])
  assert.equal(s.dialling(), 1)
  for (const t of [0, 1_000, 3_600_000]) assert.deepEqual(s.take(t, 8), [], 'in flight: no second dial')
  assert.equal(s.nextDueMs(), undefined)
  s.disconnected('a', 10) // a connection closing meanwhile does not start another dial either
  assert.deepEqual(s.take(3_600_000, 8), [])
  s.failed('a', 100)
  assert.deepEqual(s.take(1_100, 8), ['a'])
})

test('at most `max` dials in flight, earliest due first', () => {
  const s = noJitter()
  for (const [key, at] of [['c', 30], ['a', 10], ['b', 20], ['d', 40]] as const) s.add(key, at)
  assert.deepEqual(s.take(100, 2), ['a', 'b'])
  assert.deepEqual(s.take(100, 2), [], 'two in flight already')
  s.failed('a', 100)
  assert.deepEqual(s.take(100, 2), ['c'], 'one slot freed; a waits for its backoff')
  s.connected('b', 100)
  s.connected('c', 100)
  assert.deepEqual(s.take(100, 2), ['d'])
  assert.deepEqual(s.take(1_100, 2), ['a'])
})

/** `a` after six failed dials in a row, its next wait 64 s; returns the time. */
function afterSixFailures (s: RedialSchedule): number {
  s.add('a', 0)
  let now = 0
  for (let i = 0; i < 6; i++) { s.take(now, 8); s.failed('a', now); now = s.nextDueMs() as number }
  assert.equal(s.waitMs(7), 64_000)
  return now
}

test('a connection that held resets the backoff: lost, the peer is due after the first wait', () => {
  const s = noJitter()
  let now = afterSixFailures(s)
  s.take(now, 8)
  s.connected('a', now)
  assert.equal(s.nextDueMs(), undefined, 'connected: nothing to dial')
  assert.deepEqual(s.take(now + 3_600_000, 8), [])
  now += REDIAL_BACKOFF.heldMs
  s.disconnected('a', now)
  assert.equal(s.nextDueMs(), now + 1_000, 'lost after it held: back to the first wait')
  s.take(now + 1_000, 8)
  s.failed('a', now + 1_000)
  assert.equal(s.nextDueMs(), now + 1_000 + 2_000, 'and failures count up from there')
})

test('a peer that hangs up at once (refusing us, or flapping) is dialled ever more slowly, like an unreachable one', () => {
  const s = noJitter()
  let now = afterSixFailures(s)
  const waits: number[] = []
  for (let i = 0; i < 4; i++) {
    s.take(now, 8)
    s.connected('a', now)
    s.disconnected('a', now + 500) // it closed the connection half a second later
    const due = s.nextDueMs() as number
    waits.push(due - (now + 500))
    now = due
  }
  assert.deepEqual(waits, [64_000, 128_000, 256_000, 300_000])
})

test('a peer reached by its own dial (inbound) while waiting is parked; adding a known peer keeps its place', () => {
  const s = noJitter()
  s.add('a', 0)
  s.take(0, 8)
  s.failed('a', 0)
  s.add('a', 500) // learned again (another address): its backoff stays
  assert.equal(s.nextDueMs(), 1_000)
  s.connected('a', 600)
  assert.equal(s.nextDueMs(), undefined)
  s.delete('a')
  assert.equal(s.has('a'), false)
  s.connected('a', 700)
  s.failed('a', 700)
  assert.equal(s.nextDueMs(), undefined, 'a forgotten peer stays forgotten')
})

test('new addresses (peer exchange) cut a wait short, at most once per hurryMs, keeping the failures', () => {
  const s = noJitter()
  let now = afterSixFailures(s)
  s.take(now, 8)
  s.failed('a', now) // due in 64 s
  now += 5_000
  s.hurry('a', now)
  assert.equal(s.nextDueMs(), now, 'due at once')
  s.take(now, 8)
  s.failed('a', now)
  assert.equal(s.nextDueMs(), now + 128_000, 'the failures were kept: a failed hurried dial waits longer still')
  s.hurry('a', now + REDIAL_BACKOFF.hurryMs - 1)
  assert.equal(s.nextDueMs(), now + 128_000, 'a second hurry within hurryMs changes nothing')
  s.hurry('a', now + REDIAL_BACKOFF.hurryMs)
  assert.equal(s.nextDueMs(), now + REDIAL_BACKOFF.hurryMs)
})

test('hurried while a dial is in flight: due at once when that dial fails; connected peers are never hurried', () => {
  const s = noJitter()
  s.add('a', 0)
  s.take(0, 8)
  s.hurry('a', 10)
  assert.deepEqual(s.take(10, 8), [], 'still one dial at a time')
  s.failed('a', 20)
  assert.equal(s.nextDueMs(), 20, 'the old addresses failed: the new ones are tried now')
  s.take(20, 8)
  s.failed('a', 30)
  assert.equal(s.nextDueMs(), 30 + 2_000, 'once only')
  const c = noJitter()
  c.add('b', 0)
  c.take(0, 8)
  c.connected('b', 0)
  c.hurry('b', 100)
  assert.equal(c.nextDueMs(), undefined)
  c.hurry('nobody', 100)
  assert.equal(c.has('nobody'), false)
})
