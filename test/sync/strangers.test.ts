import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeMessage, encodeMessage } from '../../src/codec/index.ts'
import type { Message } from '../../src/codec/index.ts'
import { SpaceReplica, signEntry, PENDING_BYTES_PER_PEER_MAX } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { SyncEngine, CLAIMS_PER_PEER_MAX, preferredSource, SERVE_QUEUE_BYTES_PER_PEER_MAX, SCORE } from '../../src/sync/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { Wire } from './wire.ts'
import type { Peer } from './wire.ts'
import { authorKeyOf } from '../../src/ids/index.ts'

/**
 * Decision 17 on the engine: a stranger learns nothing (no space id, name,
 * owner, head or fork proof) and costs nothing (what it makes a node hold is
 * bounded per peer and in all, charged, and freed when it leaves).
 */

function ownerWithSpace (seed: string, entries = 0, value = 'v'): { o: KeyPair, store: MemoryStore, origin: SpaceReplica } {
  const o = seededKey(seed, 'owner')
  const store = new MemoryStore()
  const origin = SpaceReplica.create(store, o, 'secret-name', T0)
  for (let i = 0; i < entries; i++) origin.append(o, { t: 'kv.put', key: `k${i}`, value }, T0 + 10 + i)
  return { o, store, origin }
}

/** The owner's node A and a stranger's S (no space), connected. */
function ownerAndStranger (seed: string, entries: number): { o: KeyPair, s: KeyPair, store: MemoryStore, origin: SpaceReplica, wire: Wire, A: Peer, S: Peer } {
  const { o, store, origin } = ownerWithSpace(seed, entries)
  const wire = new Wire(T0 + 10_000)
  const A = wire.add(o, store)
  const s = seededKey(seed, 'stranger')
  const S = wire.add(s)
  wire.connect(A, S)
  return { o, s, store, origin, wire, A, S }
}

function received (wire: Wire, to: Peer): Message[] {
  return wire.sent.filter(s => s.to === to.name).map(s => decodeMessage(s.bytes))
}

function contains (haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack).includes(Buffer.from(needle))
}

function misbehaviour (p: Peer, peer: Peer): string[] {
  return p.events.flatMap(e => e.type === 'misbehaviour' && e.peer === peer.name ? [e.reason] : [])
}

/** An entry of `author`'s own feed, in a space it knows the id of and holds no grant in. */
function ownFeedEntry (author: KeyPair, space: Uint8Array, seq: number, prev: Uint8Array | null, value: unknown, epoch = 5): ReturnType<typeof signEntry> {
  return signEntry(author, { space, author: author.publicKey, epoch, seq, prev, clock: { wallMs: T0 + 100 + seq, counter: 0 }, body: { t: 'kv.put', key: 'x', value } })
}

describe('strangers (decision 17)', () => {
  test("a stranger's hello names no space: no id, genesis, name, owner or head; only padded blinded tags", () => {
    const { o, s, store, origin, wire, A, S } = ownerAndStranger('st1', 3)
    const hellos = received(wire, S).filter(m => m.m === 'hello')
    assert.equal(hellos.length, 1)
    const hello = hellos[0] as Extract<Message, { m: 'hello' }>
    assert.deepEqual(hello.spaces, [], 'no space in full')
    assert.equal(hello.tags?.length, 8, 'one tag, padded to a multiple of 8')
    for (const s of wire.sent.filter(s => s.to === S.name)) {
      assert.ok(!contains(s.bytes, origin.id), 'the space id is in no message to the stranger')
      assert.ok(!contains(s.bytes, origin.genesis.bytes), 'nor the genesis (name, owner)')
      assert.ok(!contains(s.bytes, Buffer.from('secret-name')), 'nor the name')
    }
    assert.deepEqual(misbehaviour(A, S), [])
  })

  test('a member gets the space in full; a non-member that knows the id gets no vector and no fork proof', () => {
    const { o, store, origin } = ownerWithSpace('st2', 2)
    const w = seededKey('st2', 'writer')
    origin.append(o, { t: 'acl.grant', member: w.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, T0 + 50)
    // The writer forks its feed: two entries at one position.
    const e1 = signEntry(w, { space: origin.id, author: w.publicKey, epoch: 0, seq: 0, prev: null, clock: { wallMs: T0 + 60, counter: 0 }, body: { t: 'kv.put', key: 'a', value: 1 } })
    const e2 = signEntry(w, { space: origin.id, author: w.publicKey, epoch: 0, seq: 0, prev: null, clock: { wallMs: T0 + 61, counter: 0 }, body: { t: 'kv.put', key: 'a', value: 2 } })
    assert.equal(origin.ingestFork([e1.bytes, e1.sig], [e2.bytes, e2.sig], T0 + 100).fork?.seq, 0)
    const wire = new Wire(T0 + 10_000)
    const A = wire.add(o, store)
    const memberStore = new MemoryStore()
    SpaceReplica.adopt(memberStore, [origin.genesis.bytes, origin.genesis.sig])
    const M = wire.add(w, memberStore)
    const knowerStore = new MemoryStore()
    SpaceReplica.adopt(knowerStore, [origin.genesis.bytes, origin.genesis.sig])
    const K = wire.add(seededKey('st2', 'knower'), knowerStore)
    wire.connect(A, M)
    wire.connect(A, K)
    assert.ok(received(wire, M).some(m => m.m === 'hello' && m.spaces.length === 1 && m.spaces[0]?.feeds.length !== 0), 'the member gets the vector')
    assert.ok(received(wire, M).some(m => m.m === 'fork'), 'the member gets the fork proof')
    const toK = received(wire, K)
    assert.ok(toK.every(m => m.m !== 'fork'), 'no fork proof to a non-member')
    assert.ok(toK.every(m => m.m !== 'entries'), 'no entry to a non-member')
    assert.ok(toK.every(m => m.m !== 'hello' || m.spaces.length === 0), 'no vector to a non-member, even one that knows the id')
  })

  test('self-made fork proofs in an ungranted feed: not stored, charged, no view rebuilt; one proof per feed', () => {
    const { o, s, store, origin, wire, A, S } = ownerAndStranger('st3', 5)
    const before = origin.viewHash()
    for (let i = 0; i < 3; i++) {
      const a = ownFeedEntry(s, origin.id, i, null, 'a')
      const b = ownFeedEntry(s, origin.id, i, null, 'b')
      wire.inject(S, A, encodeMessage({ m: 'fork', space: origin.id, a: [a.bytes, a.sig], b: [b.bytes, b.sig] }))
    }
    assert.deepEqual(store.forks(origin.key), [], 'no proof kept')
    assert.equal(replicaOf(A).viewHash(), before, 'no view changed')
    const reasons = misbehaviour(A, S)
    assert.equal(reasons.filter(r => /bad fork proof/.test(r)).length, 3, 'each one charged')
    assert.ok(A.events.every(e => e.type !== 'fork'))
  })

  test("a non-member's own entries pushed unasked are not held, and charged", () => {
    const { o, s, store, origin, wire, A, S } = ownerAndStranger('st4', 1)
    let prev: Uint8Array | null = null
    const run: [Uint8Array, Uint8Array][] = []
    for (let i = 0; i < 20; i++) {
      const e = ownFeedEntry(s, origin.id, i, prev, 'x'.repeat(50_000))
      prev = e.id
      run.push([e.bytes, e.sig])
    }
    for (let i = 0; i < 20; i += 10) wire.inject(S, A, encodeMessage({ m: 'entries', space: origin.id, run: run.slice(i, i + 10) }))
    assert.equal(replicaOf(A).pendingCount, 0, 'nothing held pending')
    assert.equal(A.engine.holdings().pendingBytes, 0)
    assert.ok(misbehaviour(A, S).some(r => /no grant covers/.test(r)), 'charged')
  })

  test("pending entries are bounded in bytes per peer and freed when the peer leaves", () => {
    const { o, store, origin } = ownerWithSpace('st5', 1)
    const wire = new Wire(T0 + 10_000)
    const A = wire.add(o, store)
    const P = wire.add(seededKey('st5', 'pusher'))
    wire.connect(A, P)
    // Genuine entries of the owner's feed after a gap (as a replaying peer holds them): pending, as the chain waits.
    let prev: Uint8Array | null = null
    const big = 'y'.repeat(60_000)
    for (let seq = 10; seq < 200; seq++) {
      const e = signEntry(o, { space: origin.id, author: o.publicKey, epoch: 0, seq, prev: prev ?? new Uint8Array(32), clock: { wallMs: T0 + 1000 + seq, counter: 0 }, body: { t: 'kv.put', key: `p${seq}`, value: big } })
      prev = e.id
      wire.inject(P, A, encodeMessage({ m: 'entries', space: origin.id, run: [[e.bytes, e.sig]] }))
    }
    const held = A.engine.holdings()
    assert.ok(held.pendingEntries > 0, 'some held (a gap in a covered feed)')
    assert.ok(held.pendingBytes <= PENDING_BYTES_PER_PEER_MAX, `pending bytes ${held.pendingBytes} within the per-peer bound`)
    A.engine.disconnect(P.name, wire.nowMs)
    assert.equal(A.engine.holdings().pendingBytes, 0, 'freed when it left')
    assert.equal(A.engine.holdings().pendingEntries, 0)
  })

  test('pending bytes of one peer are bounded over all spaces together, not per space only', () => {
    const o = seededKey('st11', 'owner')
    const store = new MemoryStore()
    const spaces = [0, 1, 2].map(i => SpaceReplica.create(store, o, `s${i}`, T0 + i))
    const engine = new SyncEngine({ keyPair: o, spaces: { get: k => spaces.find(r => r.key === k), all: () => spaces } })
    const pusher = authorKeyOf(seededKey('st11', 'pusher').publicKey)
    engine.connect(pusher, T0 + 10_000)
    const big = 'q'.repeat(60_000)
    let most = 0
    for (const space of spaces) {
      // Genuine entries of the owner's feed past a gap, as a replaying peer holds them: ~3 MiB per space.
      for (let seq = 10; seq < 60; seq++) {
        const e = signEntry(o, { space: space.id, author: o.publicKey, epoch: 0, seq, prev: new Uint8Array(32), clock: { wallMs: T0 + 1000 + seq, counter: 0 }, body: { t: 'kv.put', key: `p${seq}`, value: big } })
        engine.receive(pusher, encodeMessage({ m: 'entries', space: space.id, run: [[e.bytes, e.sig]] }), T0 + 10_001)
        assert.ok(engine.holdings().pendingBytes <= PENDING_BYTES_PER_PEER_MAX, `${engine.holdings().pendingBytes} bytes held for one peer over all spaces`)
        most = Math.max(most, engine.holdings().pendingBytes)
      }
    }
    assert.ok(most > 3 * 2 ** 20, 'it did hold what fit')
  })

  test("a reader's flood of wants: what the node queues for it stays within the budget; the rest is left unanswered, not none", () => {
    const { o, store, origin } = ownerWithSpace('st6', 0)
    const r = seededKey('st6', 'reader')
    origin.append(o, { t: 'acl.grant', member: r.publicKey, role: 'reader', from: { epoch: 0, seq: 0 } }, T0 + 5)
    const value = 'z'.repeat(60_000)
    for (let i = 0; i < 300; i++) origin.append(o, { t: 'kv.put', key: `k${i}`, value }, T0 + 10 + i)
    const engine = new SyncEngine({ keyPair: o, spaces: { get: k => (k === origin.key ? origin : undefined), all: () => [origin] } })
    const reader = authorKeyOf(r.publicKey)
    engine.connect(reader, T0 + 10_000)
    engine.drain()
    const epoch = origin.vector().find(f => authorKeyOf(f.author) === authorKeyOf(o.publicKey))?.epoch as number
    const ranges = Array.from({ length: 200 }, () => ({ author: o.publicKey, epoch, from: 0, to: 400 }))
    engine.receive(reader, encodeMessage({ m: 'want', space: origin.id, ranges }), T0 + 10_001)
    const out = engine.drain().filter(m => m.peer === reader)
    const bytes = out.reduce((n, m) => n + m.bytes.byteLength, 0)
    assert.ok(bytes <= SERVE_QUEUE_BYTES_PER_PEER_MAX + 1024 * 1024, `queued ${bytes} bytes for one want message, budget ${SERVE_QUEUE_BYTES_PER_PEER_MAX}`)
    // A `none` would say the node does not hold the rest: the reader would not ask it again until it announced anew.
    assert.ok(!out.some(m => m.type === 'none'), 'the rest left unanswered (it times out and is asked again)')
    assert.ok(engine.stats.wantsRefused > 0)
    // A transport that has not written what it was given: nothing more is served until it drains, nothing answered.
    const slow = new SyncEngine({ keyPair: o, spaces: { get: k => (k === origin.key ? origin : undefined), all: () => [origin] }, backlog: () => SERVE_QUEUE_BYTES_PER_PEER_MAX })
    slow.connect(reader, T0)
    slow.drain()
    slow.receive(reader, encodeMessage({ m: 'want', space: origin.id, ranges: ranges.slice(0, 1) }), T0 + 1)
    assert.deepEqual(slow.drain().map(m => m.type), [])
  })

  test('wants for a space the peer is not a member of get none', () => {
    const { o, s, store, origin, wire, A, S } = ownerAndStranger('st7', 3)
    const epoch = origin.vector()[0]?.epoch as number
    wire.inject(S, A, encodeMessage({ m: 'want', space: origin.id, ranges: [{ author: o.publicKey, epoch, from: 0, to: 10 }] }))
    const answers = received(wire, S).filter(m => m.m === 'none' || m.m === 'entries')
    assert.deepEqual(answers.map(m => m.m), ['none'])
  })

  test('huge vectors and have rows: past the per-peer budget refused and charged; every slot freed when the peer leaves', () => {
    const { o, store, origin } = ownerWithSpace('st8', 1)
    const m = seededKey('st8', 'member')
    origin.append(o, { t: 'acl.grant', member: m.publicKey, role: 'reader', from: { epoch: 0, seq: 0 } }, T0 + 5)
    const engine = new SyncEngine({ keyPair: o, spaces: { get: k => (k === origin.key ? origin : undefined), all: () => [origin] } })
    const peer = authorKeyOf(m.publicKey)
    engine.connect(peer, T0 + 10_000)
    const head = new Uint8Array(32).fill(1)
    const rows = (base: number): { author: Uint8Array, epoch: number, count: number, head: Uint8Array, frozen: boolean }[] =>
      Array.from({ length: 40_000 }, (_, i) => ({ author: new Uint8Array(32).fill(7), epoch: base + i, count: 1, head, frozen: false }))
    engine.receive(peer, encodeMessage({ m: 'have', space: origin.id, heads: rows(1) }), T0 + 10_001)
    engine.receive(peer, encodeMessage({ m: 'have', space: origin.id, heads: rows(50_001) }), T0 + 10_002)
    assert.equal(engine.holdings().claims, CLAIMS_PER_PEER_MAX, 'claims stop at the per-peer budget')
    const events = engine.events()
    assert.ok(events.some(e => e.type === 'misbehaviour' && e.points === SCORE.overClaim), 'charged')
    engine.disconnect(peer, T0 + 10_003)
    assert.equal(engine.holdings().claims, 0, 'freed when it left')
  })

  test('a joiner connected before it joins presents its join to an admin inviter that named the space by tag, and is served', () => {
    const { o, store, origin } = ownerWithSpace('st10', 2)
    const [admin, j, inviteKey] = [seededKey('st10', 'admin'), seededKey('st10', 'joiner'), seededKey('st10', 'invite')]
    origin.append(o, { t: 'acl.grant', member: admin.publicKey, role: 'admin', from: { epoch: 0, seq: 0 } }, T0 + 50)
    const wire = new Wire(T0 + 10_000)
    const A = wire.add(o, store)
    const adminStore = new MemoryStore()
    SpaceReplica.adopt(adminStore, [origin.genesis.bytes, origin.genesis.sig])
    const I = wire.add(admin, adminStore)
    wire.connect(A, I)
    const invite = I.engine.append(origin.key, { t: 'invite', key: inviteKey.publicKey, role: 'writer', uses: 1, expiresMs: T0 + 1e9 }, wire.nowMs)
    wire.flush()
    // The joiner holds no space when it connects: the admin's hello names the space by a tag it cannot match yet.
    const J = wire.add(j)
    wire.connect(I, J)
    const joined = SpaceReplica.adopt(J.store, [origin.genesis.bytes, origin.genesis.sig]) as SpaceReplica
    J.replicas.set(joined.key, joined)
    joined.join(j, invite.id, inviteKey, wire.nowMs)
    J.engine.spaceAdded(joined.key)
    wire.flush()
    assert.equal(replicaOf(I).acl.currentRole(J.name), 'writer', 'the inviter stored the join')
    assert.equal(joined.viewHash(), origin.viewHash(), 'and served the joiner')
    for (const p of [A, I, J]) for (const q of [A, I, J]) assert.deepEqual(misbehaviour(p, q), [], 'nobody scored')
  })

  test('a peer whose claims go unanswered is asked last, not first', () => {
    const liar = { count: 1_000_000, tried: false, unanswered: 1 }
    const honest = { count: 10, tried: false, unanswered: 0 }
    assert.equal(preferredSource(honest, liar), true, 'the answering peer before the fuller claim of one that did not answer')
    assert.equal(preferredSource(liar, honest), false)
    assert.equal(preferredSource({ ...honest, tried: true }, liar), false, 'a peer already tried for this pull comes after one not tried')
    assert.equal(preferredSource({ ...honest, count: 20 }, honest), true, 'among peers that answered, the fullest')
  })

  test('a liar that claims a feed far ahead and never answers does not stop catch-up from an honest peer', () => {
    const { o, store, origin } = ownerWithSpace('st9', 30)
    const [l, c] = [seededKey('st9', 'liar'), seededKey('st9', 'c')]
    for (const k of [l, c]) origin.append(o, { t: 'acl.grant', member: k.publicKey, role: 'reader', from: { epoch: 0, seq: 0 } }, T0 + 100)
    const adopt = (): MemoryStore => { const s = new MemoryStore(); SpaceReplica.adopt(s, [origin.genesis.bytes, origin.genesis.sig]); return s }
    const wire = new Wire(T0 + 10_000)
    const A = wire.add(o, store)
    const C = wire.add(c, adopt())
    const L = wire.add(l, adopt())
    wire.muted.add(`${L.name}>${C.name}`)
    wire.connect(L, C)
    const row = origin.vector().find(f => authorKeyOf(f.author) === authorKeyOf(o.publicKey))
    assert.ok(row !== undefined)
    C.engine.receive(L.name, encodeMessage({ m: 'have', space: origin.id, heads: [{ ...row, count: row.count + 1000 }] }), wire.nowMs)
    wire.flush()
    wire.connect(A, C)
    wire.advance(3_000)
    wire.advance(3_000)
    assert.equal(replicaOf(C).viewHash(), origin.viewHash(), 'caught up from the honest peer')
    assert.deepEqual(misbehaviour(C, A), [], 'the honest peer is never scored')
  })
})

function replicaOf (p: Peer): SpaceReplica {
  return [...p.replicas.values()][0] as SpaceReplica
}
