import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { fromHex } from '../../src/codec/index.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import type { AuthorKey } from '../../src/ids/index.ts'
import { ASK_AGAIN_MAX, REQUEST_TIMEOUT_MS, StatusGossip } from '../../src/sync/index.ts'
import type { StatusNeighbour, StatusSpace } from '../../src/sync/index.ts'
import type { StatusStamp } from '../../src/codec/index.ts'
import { crossCheck } from '../../bench/status-sim.ts'
import { authorKey, spaceKey } from '../helpers/ids.ts'

/**
 * Status gossip on its own (sync/status-gossip.ts is pure: plain data in,
 * messages out), and the message-level model bench/status.ts runs at 1,000
 * and 10,000 nodes (bench/status-sim.ts) checked against the real engine,
 * message for message, so the model cannot drift from the protocol.
 */
const space: StatusSpace = { key: spaceKey('space'), id: Uint8Array.of(1), stampOf: () => null, isMember: () => true }
const author = authorKeyOf(new Uint8Array(32).fill(7))
// Peers, by their author keys.
const [A, B, C] = [authorKey('a'), authorKey('b'), authorKey('c')]
const stamp = (wallMs: number, id = 0): StatusStamp => ({ clock: { wallMs, counter: 0 }, id: new Uint8Array(32).fill(id) })
const neighbour = (peer: AuthorKey): StatusNeighbour => ({ peer, known: new Map() })

describe('status gossip', () => {
  test('a stored record is announced to each neighbour that may lack it, never back to its sender', () => {
    const gossip = new StatusGossip(() => true)
    const [a, b, c] = [neighbour(A), neighbour(B), neighbour(C)]
    c.known.set(author, stamp(20))
    const sends = gossip.stored(space, fromHex(author), stamp(10), a, [a, b, c])
    assert.deepEqual(sends.map(s => [s.peer, s.msg.m]), [[B, 'status-have']])
    assert.deepEqual(a.known.get(author), stamp(10), 'the sender holds it')
    assert.deepEqual(b.known.get(author), stamp(10))
    assert.deepEqual(gossip.stored(space, fromHex(author), stamp(10), null, [a, b, c]), [], 'announced once')
  })

  test('a newer record announced by several is asked of one; the next on a timeout; dropped when none is left', () => {
    const connected = new Set([A, B])
    const gossip = new StatusGossip(p => connected.has(p))
    const [a, b] = [neighbour(A), neighbour(B)]
    const head = { author: fromHex(author), ...stamp(10) }
    assert.deepEqual(gossip.announced(space, a, [head], 0).map(s => [s.peer, s.msg.m]), [[A, 'status-want']])
    assert.deepEqual(gossip.announced(space, b, [head], 1), [], 'asked of one announcer only')
    assert.equal(gossip.nextDeadline(), REQUEST_TIMEOUT_MS)
    assert.deepEqual(gossip.tick(REQUEST_TIMEOUT_MS).map(s => s.peer), [B], 'the next announcer, after the timeout')
    connected.delete(B)
    assert.deepEqual(gossip.peerGone(B, REQUEST_TIMEOUT_MS + 1), [], 'nobody left: the want is dropped')
    assert.equal(gossip.nextDeadline(), null)
  })

  test('the last announcer, still linked, is asked again at each timeout (it may have been busy), ASK_AGAIN_MAX times', () => {
    const gossip = new StatusGossip(() => true)
    const a = neighbour(A)
    const head = { author: fromHex(author), ...stamp(10) }
    assert.deepEqual(gossip.announced(space, a, [head], 0).map(s => s.peer), [A])
    for (let i = 1; i <= ASK_AGAIN_MAX; i++) {
      assert.deepEqual(gossip.tick(i * REQUEST_TIMEOUT_MS).map(s => [s.peer, s.msg.m]), [[A, 'status-want']], `again, ${i}`)
    }
    assert.deepEqual(gossip.tick((ASK_AGAIN_MAX + 1) * REQUEST_TIMEOUT_MS), [], 'then the want is dropped')
    assert.equal(gossip.nextDeadline(), null)
  })

  test('an older answer asks the next announcer; a record as new as announced closes the want', () => {
    let held: StatusStamp | null = null
    const view: StatusSpace = { ...space, stampOf: () => held }
    const gossip = new StatusGossip(() => true)
    const [a, b] = [neighbour(A), neighbour(B)]
    gossip.announced(view, a, [{ author: fromHex(author), ...stamp(10) }], 0)
    gossip.announced(view, b, [{ author: fromHex(author), ...stamp(20) }], 0)
    held = stamp(10)
    gossip.stored(view, fromHex(author), stamp(10), a, [a, b])
    assert.deepEqual(gossip.answered(view, author, 5).map(s => s.peer), [B], 'older than announced: ask the next')
    gossip.stored(view, fromHex(author), stamp(20), b, [a, b])
    assert.deepEqual(gossip.answered(view, author, 6), [])
    assert.equal(gossip.nextDeadline(), null)
  })

  test('a head of a non-member is no claim: not held, not asked', () => {
    const gossip = new StatusGossip(() => true)
    const a = neighbour(A)
    const sends = gossip.announced({ ...space, isMember: () => false }, a, [{ author: fromHex(author), ...stamp(1) }], 0)
    assert.deepEqual(sends, [])
    assert.equal(a.known.size, 0)
  })

  test('bench/status-sim.ts: the model sends and receives what the real engine does, per node and message type', () => {
    for (const seed of [1, 2]) {
      const r = crossCheck({
        nodes: 24, dialsPerNode: 4, seed, publicationsPerNode: 2, spacingMs: 10_000, doubleShare: 0.3, doubleAfterMs: 15,
        slowNodes: 2, slowLatencyMs: 1500
      })
      assert.deepEqual(r.firstDifferences, [], `seed ${seed}`)
      assert.equal(r.everyNodeEveryTypeEqual, true, `seed ${seed}`)
      assert.equal(r.everyRecordHeldEverywhere, true, `seed ${seed}`)
    }
  })
})
