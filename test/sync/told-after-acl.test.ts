/**
 * What a node holds reaches a member neighbour that lacks it, also across a
 * change of the ACL: entries a local grant lets out of pending; what was
 * stored while a neighbour was no member, once it is one again; the status
 * records and fork proofs of the hello exchange, to a peer admitted on the
 * link (granted, or its join redeemed); a fork proof that came before the
 * grants that cover its feed. (Found by hostile reviews: in each, nothing
 * told the neighbour until a writer wrote again or the link was made anew.)
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeMessage } from '../../src/codec/index.ts'
import type { Entry } from '../../src/codec/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { signEntry, SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { Wire } from './wire.ts'
import type { Peer } from './wire.ts'

const replicaOf = (p: Peer): SpaceReplica => [...p.replicas.values()][0] as SpaceReplica
const feedCount = (p: Peer, k: KeyPair): number =>
  replicaOf(p).vector().find(r => r.author.every((b, i) => b === k.publicKey[i]))?.count ?? 0

function adopted (origin: SpaceReplica): MemoryStore {
  const s = new MemoryStore()
  SpaceReplica.adopt(s, [origin.genesis.bytes, origin.genesis.sig])
  return s
}

/** An owner linked to the members it granted (`roles`, in order), on one wire. */
function star (seed: string, roles: readonly ('admin' | 'writer')[]): { wire: Wire, O: Peer, members: Peer[], keys: KeyPair[] } {
  const o = seededKey(seed, 'owner')
  const keys = roles.map((_, i) => seededKey(seed, `m${i}`))
  const store = new MemoryStore()
  const origin = SpaceReplica.create(store, o, seed, T0)
  keys.forEach((k, i) => origin.append(o, { t: 'acl.grant', member: k.publicKey, role: roles[i] as 'admin' | 'writer', from: { epoch: 0, seq: 0 } }, T0 + 1 + i))
  const wire = new Wire(T0 + 10)
  const O = wire.add(o, store)
  const members = keys.map(k => wire.add(k, adopted(origin)))
  for (const m of members) wire.connect(O, m)
  return { wire, O, members, keys }
}

/**
 * A space whose owner's store holds a fork proof of writer W's feed (two entries signed at one position), with an
 * invite, and the status record the owner's engine publishes: what the hello exchange gives a member.
 */
function forkedSpace (seed: string, y: KeyPair, grantY: boolean): { wire: Wire, O: Peer, origin: SpaceReplica, invite: Entry, inv: KeyPair } {
  const [o, w, inv] = ['owner', 'w', 'inv'].map(n => seededKey(seed, n)) as [KeyPair, KeyPair, KeyPair]
  const store = new MemoryStore()
  const origin = SpaceReplica.create(store, o, seed, T0)
  origin.append(o, { t: 'acl.grant', member: w.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, T0 + 1)
  if (grantY) origin.append(o, { t: 'acl.grant', member: y.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, T0 + 2)
  const base = origin.append(w, { t: 'kv.put', key: 'ok', value: 1 }, T0 + 3)
  for (const name of ['a', 'b']) {
    const e = signEntry(w, { space: origin.id, author: w.publicKey, epoch: base.epoch, seq: base.seq + 1, prev: base.id, clock: { wallMs: T0 + 4, counter: 0 }, body: { t: 'kv.put', key: name, value: name } })
    origin.ingestRun([[e.bytes, e.sig]], 'someone', T0 + 5)
  }
  assert.equal(origin.forkProofs().length, 1)
  const invite = origin.append(o, { t: 'invite', key: inv.publicKey, role: 'writer', uses: 1, expiresMs: T0 + 1e9 }, T0 + 6)
  const wire = new Wire(T0 + 10)
  const O = wire.add(o, store)
  O.engine.publishStatus(origin.key, { online: true }, wire.nowMs)
  return { wire, O, origin, invite, inv }
}

/** What Y holds of what the owner held when they met: W's feed up to the fork, the owner's status, the proof. */
function holdsWhatOwnerHeld (Y: Peer, O: Peer): void {
  assert.equal(replicaOf(Y).acl.currentRole(Y.name), 'writer')
  assert.equal(replicaOf(Y).kvGet('ok')?.value, 1, 'W\'s feed up to the fork')
  assert.ok(replicaOf(Y).status(O.name) !== undefined, 'the owner\'s status record')
  assert.equal(replicaOf(Y).forkProofs().length, 1, 'the fork proof')
}

describe('told after a change of the ACL', () => {
  test('entries a local grant lets out of pending are announced to the member neighbours', () => {
    const { wire, O, members: [A, M] } = star('told1', ['admin', 'writer'])
    const [A_, M_] = [A, M] as [Peer, Peer]
    const w = seededKey('told1', 'w')
    const space = replicaOf(O).key
    // A grants W, but nothing of A reaches O yet; W writes, and A stores it.
    wire.muted.add(`${A_.name}>${O.name}`)
    A_.engine.append(space, { t: 'acl.grant', member: w.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, wire.nowMs)
    const W = wire.add(w, adopted(replicaOf(O)))
    wire.connect(W, A_)
    const put = W.engine.append(space, { t: 'kv.put', key: 'by-w', value: 1 }, wire.nowMs)
    wire.flush()
    assert.equal(feedCount(A_, w), 1)
    // O gets W's seq 0 from A (a pull of seq 0 of a feed no grant covers here gives it): pending, for want of a grant.
    wire.muted.delete(`${A_.name}>${O.name}`)
    wire.inject(A_, O, encodeMessage({ m: 'entries', space: replicaOf(A_).id, run: [[put.bytes, put.sig]] }), 'entries')
    wire.muted.add(`${A_.name}>${O.name}`)
    assert.equal(feedCount(O, w), 0, 'pending at O')
    // O's own user grants W: the grant lets W's entry out of pending, stored with it.
    O.engine.append(space, { t: 'acl.grant', member: w.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, wire.nowMs)
    wire.flush()
    assert.equal(feedCount(O, w), 1, 'O stored it with its grant')
    assert.ok(O.events.some(e => e.type === 'stored' && e.released === true && e.entries.some(x => x.body.t === 'kv.put')),
      'and said so, as peers\' entries released (a folder waiting for them looks again at once)')
    assert.equal(replicaOf(M_).kvGet('by-w')?.value, 1, 'M, linked to O only, got it from O')
  })

  test('a member revoked and granted again is told what was stored while it was no member', () => {
    const { wire, O, members: [M, W], keys: [m] } = star('told2', ['writer', 'writer'])
    const [M_, W_, m_] = [M, W, m] as [Peer, Peer, KeyPair]
    const space = replicaOf(O).key
    const at = replicaOf(M_).nextPosition(M_.name, wire.nowMs)
    O.engine.append(space, { t: 'acl.revoke', member: m_.publicKey, at: { epoch: at.epoch, seq: 0 }, keep: [] }, wire.nowMs)
    wire.flush()
    // Stored at O while M is no member: not announced to M.
    W_.engine.append(space, { t: 'kv.put', key: 'gap', value: 1 }, wire.nowMs)
    wire.flush()
    assert.equal(replicaOf(M_).kvGet('gap'), undefined)
    O.engine.append(space, { t: 'acl.grant', member: m_.publicKey, role: 'writer', from: { epoch: at.epoch + 1, seq: 0 } }, wire.nowMs)
    wire.flush()
    assert.equal(replicaOf(M_).acl.currentRole(M_.name), 'writer', 'M is a member again')
    assert.ok(O.engine.isConnected(M_.name), 'on the same link')
    assert.equal(replicaOf(M_).kvGet('gap')?.value, 1, 'and got what W wrote meanwhile, without W writing again')
  })

  test('a member from the start gets a fork proof that came before the grants covering its feed', () => {
    const y = seededKey('told3', 'y')
    const { wire, O } = forkedSpace('told3', y, true)
    const Y = wire.add(y, adopted(replicaOf(O)))
    wire.connect(O, Y)
    wire.flush()
    holdsWhatOwnerHeld(Y, O)
  })

  test('a peer granted on the link gets the status records and fork proofs of the hello exchange', () => {
    const y = seededKey('told4', 'y')
    const { wire, O } = forkedSpace('told4', y, false)
    const Y = wire.add(y, adopted(replicaOf(O)))
    wire.connect(O, Y)
    O.engine.append(replicaOf(O).key, { t: 'acl.grant', member: y.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, wire.nowMs)
    wire.flush()
    holdsWhatOwnerHeld(Y, O)
  })

  test('a joiner redeemed on the link gets them too', () => {
    const j = seededKey('told5', 'j')
    const { wire, O, invite, inv } = forkedSpace('told5', j, false)
    const J = wire.add(j, adopted(replicaOf(O)))
    replicaOf(J).join(j, invite.id, inv, wire.nowMs)
    wire.connect(J, O)
    wire.flush()
    holdsWhatOwnerHeld(J, O)
  })

  test('a status record announced before its author\'s grant reached us is asked for once the grant comes', () => {
    const { wire, O, members: [X] } = star('told6', ['writer'])
    const X_ = X as Peer
    const a = seededKey('told6', 'a')
    const A = wire.add(a, adopted(replicaOf(O)))
    wire.connect(O, A)
    const space = replicaOf(O).key
    // O grants A and gets A's status record in the same turn: X hears of the record before it holds the grant.
    O.engine.append(space, { t: 'acl.grant', member: a.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, wire.nowMs)
    const record = replicaOf(A).signStatus(a, { online: true }, wire.nowMs)
    O.engine.receive(A.name, encodeMessage({ m: 'status', space: replicaOf(O).id, record: [record.bytes, record.sig] }), wire.nowMs)
    wire.flush()
    assert.equal(replicaOf(X_).acl.currentRole(A.name), 'writer', 'X holds A\'s grant')
    assert.ok(replicaOf(X_).status(A.name) !== undefined, 'and A\'s status record, asked for once the grant came')
  })
})
