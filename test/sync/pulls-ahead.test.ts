import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeMessage } from '../../src/codec/index.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import { SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { WANT_WINDOW_ENTRIES } from '../../src/sync/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { Wire } from './wire.ts'
import type { Peer } from './wire.ts'

/**
 * The next window of a pull is asked ahead while the current one is
 * answered (pulls.ts): a catch-up of small entries never waits a round trip
 * per window, no feed has more than two wants open, and nothing crosses
 * twice or out of order.
 */
function setup (owner: KeyPair, reader: KeyPair, entries: number, value: string): { origin: SpaceReplica, stores: [MemoryStore, MemoryStore] } {
  const store = new MemoryStore()
  const origin = SpaceReplica.create(store, owner, 'ahead', T0)
  origin.append(owner, { t: 'acl.grant', member: reader.publicKey, role: 'reader', from: { epoch: 0, seq: 0 } }, T0 + 1)
  for (let i = 0; i < entries; i++) origin.append(owner, { t: 'kv.put', key: `k${i}`, value }, T0 + 10 + i)
  const other = new MemoryStore()
  SpaceReplica.adopt(other, [origin.genesis.bytes, origin.genesis.sig])
  return { origin, stores: [store, other] }
}

/** Each want `peer` sends, as it sends it, with the entries of the feed it held then. */
function recordWants (peer: Peer): { from: number, to: number, held: number }[] {
  const wants: { from: number, to: number, held: number }[] = []
  const drain = peer.engine.drain.bind(peer.engine)
  peer.engine.drain = () => {
    const out = drain()
    for (const o of out) {
      const m = decodeMessage(o.bytes)
      if (m.m !== 'want') continue
      for (const r of m.ranges) {
        const replica = [...peer.replicas.values()][0]!
        const held = replica.feedRow(authorKeyOf(r.author), r.epoch)?.count ?? 0
        wants.push({ from: r.from, to: r.to, held })
      }
    }
    return out
  }
  return wants
}

describe('pulls ask the next window ahead', () => {
  test('small entries: the second window is asked before the first is answered, two wants open at most', () => {
    const [o, b] = [seededKey('ahead', 'owner'), seededKey('ahead', 'b')]
    const total = 3 * WANT_WINDOW_ENTRIES + 100
    const { origin, stores } = setup(o, b, total, 'v'.repeat(100))
    const wire = new Wire(T0 + 10_000_000)
    const A = wire.add(o, stores[0])
    const B = wire.add(b, stores[1])
    const wants = recordWants(B)
    wire.connect(A, B)
    assert.equal(B.store.feeds([...B.replicas.keys()][0]!)[0]?.count, total + 1, 'every entry held')
    assert.equal(B.engine.stats.entriesIn, total + 1, 'every entry crossed once')
    assert.equal(B.engine.stats.duplicatesIn, 0)
    assert.equal(B.engine.stats.pendingIn, 0, 'in chain order: nothing had to wait')
    assert.equal(wants.length, Math.ceil((total + 1) / WANT_WINDOW_ENTRIES), `one want per window, none wasted: ${JSON.stringify(wants)}`)
    for (const [i, w] of wants.entries()) {
      if (i > 0) assert.ok(w.held < w.from, `window ${i} asked before the one before it was answered: ${JSON.stringify(w)}`)
      const open = wants.slice(0, i + 1).filter(x => x.to > w.held).length
      assert.ok(open <= 2, `at most two wants of the feed open: ${JSON.stringify(wants.slice(0, i + 1))}`)
    }
    assert.equal([...B.replicas.values()][0]!.viewHash(), origin.viewHash())
  })

  test('large entries: an answer that may end by bytes is never followed by a want asked ahead', () => {
    const [o, b] = [seededKey('ahead-big', 'owner'), seededKey('ahead-big', 'b')]
    const { origin, stores } = setup(o, b, 200, 'x'.repeat(60_000))
    const wire = new Wire(T0 + 10_000_000)
    const A = wire.add(o, stores[0])
    const B = wire.add(b, stores[1])
    const wants = recordWants(B)
    wire.connect(A, B)
    assert.equal([...B.replicas.values()][0]!.viewHash(), origin.viewHash())
    assert.equal(B.engine.stats.pendingIn, 0)
    assert.ok(wants.length >= 2)
    for (const w of wants) assert.equal(w.from, w.held, `asked only from what it held: ${JSON.stringify(wants)}`)
  })
})
