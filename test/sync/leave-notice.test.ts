import { test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeMessage } from '../../src/codec/index.ts'
import { LEAVE_NOTICE, signStatus, SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { spaceTag } from '../../src/sync/space-tags.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { Wire } from './wire.ts'
import type { Peer } from './wire.ts'

/**
 * Leave notices on the wire (space/leave-notice.ts, sync/handlers.ts onStatus,
 * SyncCore.peerLeft), from a hostile review of their first form: a member
 * that repeats a notice and a tag (or a copy of its join) drew a full hello of
 * the space for each pair, uncharged; and an honest member back in a space
 * echoed its own old notice to a peer, which then forgot all it showed of the
 * space and announced it nothing more.
 */
const [O, A, W] = [seededKey('notice', 'owner'), seededKey('notice', 'admin'), seededKey('notice', 'writer')]
type Genesis = readonly [Uint8Array, Uint8Array]

function team (feeds = 0): { origin: SpaceReplica, store: MemoryStore, genesis: Genesis } {
  const store = new MemoryStore()
  const origin = SpaceReplica.create(store, O, 'team', T0)
  origin.append(O, { t: 'acl.grant', member: A.publicKey, role: 'admin', from: { epoch: 0, seq: 0 } }, T0 + 1)
  origin.append(O, { t: 'acl.grant', member: W.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, T0 + 2)
  for (let i = 0; i < feeds; i++) { // many rows in every hello of the space
    origin.openEpoch(origin.owner, T0 + 10 + i * 1000)
    origin.append(O, { t: 'kv.put', key: `k${i}`, value: i }, T0 + 11 + i * 1000)
  }
  return { origin, store, genesis: [origin.genesis.bytes, origin.genesis.sig] }
}

function holding (wire: Wire, key: typeof O, genesis: Genesis): Peer {
  const store = new MemoryStore()
  SpaceReplica.adopt(store, genesis)
  return wire.add(key, store)
}

function ownerAndAdmin (): { origin: SpaceReplica, genesis: Genesis, wire: Wire, o: Peer, a: Peer } {
  const { origin, store, genesis } = team()
  const wire = new Wire(T0 + 100_000)
  const o = wire.add(O, store)
  const a = holding(wire, A, genesis)
  wire.connect(o, a)
  return { origin, genesis, wire, o, a }
}

function notice (space: Uint8Array, counter: number, nowMs: number): Uint8Array {
  const clock = { wallMs: nowMs, counter }
  const { bytes, sig } = signStatus(W, { space, author: W.publicKey, clock, body: LEAVE_NOTICE })
  return encodeMessage({ m: 'status', space, record: [bytes, sig] })
}

test('notices repeated with tags or join copies draw at most one hello a session; the copies are charged', () => {
  const { origin, store, genesis } = team(100)
  const wire = new Wire(T0 + 1_000_000)
  const o = wire.add(O, store)
  const w = holding(wire, W, genesis)
  wire.connect(o, w)
  const inviteKey = seededKey('notice', 'invite')
  const invite = o.engine.append(origin.key, { t: 'invite', key: inviteKey.publicKey, role: 'writer', uses: 1,
    expiresMs: T0 + 1e10 }, wire.nowMs)
  wire.flush()
  const join = w.engine.join(origin.key, invite.id, inviteKey, wire.nowMs)
  wire.flush()
  const before = wire.count('hello', w, o)
  const tag = encodeMessage({ m: 'hello', spaces: [], tags: [spaceTag(origin.id, w.name, o.name)] })
  for (let i = 0; i < 50; i++) {
    wire.inject(w, o, notice(origin.id, i, wire.nowMs), 'status')
    wire.inject(w, o, tag, 'hello')
    wire.inject(w, o, encodeMessage({ m: 'entries', space: origin.id, run: [[join.bytes, join.sig]] }), 'entries')
  }
  assert.ok(wire.count('hello', w, o) - before <= 1, `${wire.count('hello', w, o) - before} hellos drawn`)
  const charged = o.events.filter(e => e.type === 'misbehaviour' && e.peer === w.name)
  assert.ok(charged.length >= 49, `the join's copies are charged (${charged.length})`)
  assert.ok(o.replicas.get(origin.key)?.saidItLeft(w.name), 'the notice itself is kept: it is W\'s own word')
})

test('a member back in a space passes its own old notice on to nobody, says it is back, and is announced to', () => {
  const { origin, store, genesis } = team()
  const wire = new Wire(T0 + 100_000)
  const o = wire.add(O, store)
  const a = holding(wire, A, genesis)
  const w = holding(wire, W, genesis)
  wire.connect(o, a)
  wire.connect(o, w)
  w.engine.append(origin.key, { t: 'kv.put', key: 'w', value: 1 }, wire.nowMs)
  wire.flush()
  cut(wire, o, w) // w is away when a leaves

  assert.equal(leave(wire, a, origin.key), 1)
  assert.equal(o.replicas.get(origin.key)?.saidItLeft(a.name), true)

  wire.nowMs += 10_000
  rejoin(wire, a, o, genesis, 'invite-a') // a comes back with an invite of o's and catches up from o
  const ar = a.replicas.get(origin.key) as SpaceReplica
  assert.equal(o.replicas.get(origin.key)?.saidItLeft(a.name), false, 'o counts it back: its join is newer')
  cut(wire, o, a) // a blip: o's hello hands a its own old notice, which a now holds as a member
  wire.connect(o, a)
  wire.advance(5000)
  assert.equal(ar.saidItLeft(a.name), false, 'a does not stand by its old notice')
  assert.deepEqual(ar.status(a.name)?.body, { left: 0 }, 'it said it is back, newer')
  assert.deepEqual(o.replicas.get(origin.key)?.status(a.name)?.body, { left: 0 }, 'and o has that')

  wire.connect(a, w) // w comes back, and meets a only
  wire.advance(5000)
  const since = wire.count('have', a, w)
  w.engine.append(origin.key, { t: 'kv.put', key: 'w2', value: 2 }, wire.nowMs)
  wire.flush()
  assert.ok(wire.count('have', a, w) > since, 'w announces its new write to a')
  assert.equal(w.engine.unsentOwn(origin.key), 0, 'and counts a as holding its writes')
  assert.equal(w.replicas.get(origin.key)?.saidItLeft(a.name), false)
})

test('a member that left, came back and leaves again on one connection is seen leaving again', () => {
  const { origin, genesis, wire, o, a } = ownerAndAdmin()
  o.engine.append(origin.key, { t: 'kv.put', key: 'o', value: 1 }, wire.nowMs)
  wire.flush()
  wire.advance(5000)
  assert.equal(o.engine.unsentOwn(origin.key), 0, 'a holds o\'s writes')
  for (let round = 0; round < 2; round++) {
    wire.nowMs += 10_000
    assert.equal(leave(wire, a, origin.key), 1)
    assert.ok(o.engine.unsentOwn(origin.key) > 0, `leave ${round + 1}: o no longer counts a as holding its writes`)
    wire.nowMs += 10_000
    rejoin(wire, a, o, genesis, `again-${round}`)
    assert.equal(o.engine.unsentOwn(origin.key), 0, `back ${round + 1}: a holds o's writes again`)
  }
})

test('a member that joins after an admin left learns of it from a peer once its catch-up shows that admin', () => {
  const { origin, genesis, wire, o, a } = ownerAndAdmin()
  wire.advance(5000)
  assert.equal(leave(wire, a, origin.key), 1)
  assert.equal(o.replicas.get(origin.key)?.saidItLeft(a.name), true)

  // w joins afterwards: o's hello hands it a's notice before w's catch-up shows a as a member (w drops it then)
  const w = wire.add(W, new MemoryStore())
  const key = (SpaceReplica.adopt(w.store, genesis) as SpaceReplica).key
  w.replicas.set(key, SpaceReplica.open(w.store, key))
  wire.connect(o, w)
  wire.advance(5000)
  const wr = w.replicas.get(origin.key) as SpaceReplica
  assert.equal(wr.acl.currentRole(a.name), 'admin', 'w caught up')
  assert.equal(wr.saidItLeft(a.name), true, 'and holds a\'s notice')
})

/** `p` joins again with a fresh invite of `issuer`'s (a writer's), from an empty store, and catches up. */
function rejoin (wire: Wire, p: Peer, issuer: Peer, genesis: Genesis, seed: string): void {
  const inviteKey = seededKey('notice', seed)
  const key = (SpaceReplica.adopt(p.store, genesis) as SpaceReplica).key
  const invite = issuer.engine.append(key, { t: 'invite', key: inviteKey.publicKey, role: 'writer', uses: 1,
    expiresMs: T0 + 1e9 }, wire.nowMs)
  wire.flush()
  p.replicas.set(key, SpaceReplica.open(p.store, key))
  p.engine.join(key, invite.id, inviteKey, wire.nowMs)
  wire.flush()
  wire.advance(5000)
}

/** node/leave.ts's order: the notice signed, the rows gone, the notice pushed, the space out of the engine. */
function leave (wire: Wire, p: Peer, space: SpaceReplica['key']): number {
  const said = p.engine.signLeaveNotice(space, wire.nowMs)
  p.store.removeSpace(space)
  const told = p.engine.pushLeaveNotice(space, said)
  p.replicas.delete(space)
  p.engine.spaceRemoved(space, wire.nowMs)
  wire.flush()
  return told
}

function cut (wire: Wire, x: Peer, y: Peer): void {
  x.engine.disconnect(y.name, wire.nowMs)
  y.engine.disconnect(x.name, wire.nowMs)
  wire.flush()
}
