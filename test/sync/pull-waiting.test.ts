import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeMessage, FEEDS_PER_MESSAGE_MAX } from '../../src/codec/index.ts'
import type { FeedRow } from '../../src/codec/index.ts'
import { SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { REQUEST_TIMEOUT_MS, SyncEngine } from '../../src/sync/index.ts'
import { TupleMap } from '../../src/sync/keys.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'

/**
 * A member's hello of FEEDS_PER_MESSAGE_MAX feeds leaves tens of thousands of
 * pulls waiting for room at it (its pull budget holds a few hundred). Each
 * pull of it that ends looks at what waits; that look must cost what it
 * plans, not all that waits: a copy of them all per ended pull made every
 * tick seconds of CPU, so a loaded node stopped answering libp2p's pings and
 * its links were cut. Counted in entries visited, never in time.
 */
describe('pulls waiting for room at a peer', () => {
  test('a tick after a hello of 40,000 feeds visits about what it plans, not every waiting pull', () => {
    const o = seededKey('pw', 'owner')
    const store = new MemoryStore()
    const origin = SpaceReplica.create(store, o, 'n', T0)
    const m = seededKey('pw', 'member')
    origin.append(o, { t: 'acl.grant', member: m.publicKey, role: 'reader', from: { epoch: 0, seq: 0 } }, T0 + 5)
    const engine = new SyncEngine({ keyPair: o, spaces: { get: k => (k === origin.key ? origin : undefined), all: () => [origin] } })
    const peer = authorKeyOf(m.publicKey)
    engine.connect(peer, T0 + 10_000)
    engine.drain()
    const head = new Uint8Array(32).fill(3)
    const author = (i: number): Uint8Array => { const a = new Uint8Array(32).fill(0x77); new DataView(a.buffer).setUint32(0, i); return a }
    const feeds: FeedRow[] = Array.from({ length: FEEDS_PER_MESSAGE_MAX }, (_, i) => ({ author: author(i), epoch: 1, count: 1, head, frozen: false }))
    engine.receive(peer, encodeMessage({ m: 'hello', spaces: [{ genesis: [origin.genesis.bytes, origin.genesis.sig], feeds, statuses: [] }] }), T0 + 10_001)
    const asked = engine.drain().filter(s => s.type === 'want').length
    assert.ok(asked > 0 && asked < FEEDS_PER_MESSAGE_MAX / 10, `${asked} pulls asked at once, the rest wait for room`)

    const entries = Object.getOwnPropertyDescriptor(TupleMap.prototype, 'entries')?.value as TupleMap<unknown[], unknown>['entries']
    let visited = 0
    TupleMap.prototype.entries = function * (this: TupleMap<unknown[], unknown>) {
      for (const e of entries.call(this)) { visited++; yield e }
    }
    try {
      engine.tick(T0 + 10_001 + REQUEST_TIMEOUT_MS + 1) // every pull asked timed out: each is asked again
    } finally {
      TupleMap.prototype.entries = entries
    }
    assert.equal(engine.drain().filter(s => s.type === 'want').length, asked, 'the same number asked again')
    assert.ok(visited < 10 * asked, `${visited} map entries visited for ${asked} timed-out pulls`)
  })
})
