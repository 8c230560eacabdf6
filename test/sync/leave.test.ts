import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeMessage } from '../../src/codec/index.ts'
import { SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { REQUEST_TIMEOUT_MS } from '../../src/sync/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { Wire } from './wire.ts'
import type { Peer } from './wire.ts'

/**
 * The engine after the node left a space (SyncEngine.spaceRemoved, issue 16):
 * the space is out of the node's directory and its store, and from then on
 * the engine pulls, serves and announces nothing of it, also across a
 * reconnect, and a pull that was under way when it left ends without a
 * retry or a charge.
 */
function twoMembers (): { wire: Wire, a: Peer, b: Peer, origin: SpaceReplica } {
  const [o, w] = [seededKey('leave', 'owner'), seededKey('leave', 'writer')]
  const store = new MemoryStore()
  const origin = SpaceReplica.create(store, o, 'team', T0)
  origin.append(o, { t: 'acl.grant', member: w.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, T0 + 1)
  for (let i = 0; i < 50; i++) origin.append(o, { t: 'kv.put', key: `k${i}`, value: i }, T0 + 2 + i)
  const theirs = new MemoryStore()
  SpaceReplica.adopt(theirs, [origin.genesis.bytes, origin.genesis.sig])
  const wire = new Wire(T0 + 10_000)
  const a = wire.add(o, store)
  const b = wire.add(w, theirs)
  return { wire, a, b, origin }
}

/** What the node does on `space leave`, as far as the engine and the store go (node/leave.ts). */
function leave (p: Peer, origin: SpaceReplica): void {
  p.store.removeSpace(origin.key)
  p.replicas.delete(origin.key)
  p.engine.spaceRemoved(origin.key, T0)
}

/** Messages from `from` to `to` since index `since` that name the space. */
function aboutSpace (wire: Wire, since: number, from: Peer, to: Peer, origin: SpaceReplica): string[] {
  return wire.sent.slice(since).filter(s => s.from === from.name && s.to === to.name).flatMap(s => {
    const m = decodeMessage(s.bytes)
    return 'space' in m && Buffer.from(m.space).equals(Buffer.from(origin.id)) ? [m.m] : []
  })
}

test('after leave, nothing of the space is pulled, served or announced by the node that left, also after a reconnect', () => {
  const { wire, a, b, origin } = twoMembers()
  wire.connect(a, b)
  assert.equal(b.replicas.get(origin.key)?.kvList().length, 50, 'caught up before leaving')
  const entriesIn = b.engine.stats.entriesIn
  leave(b, origin)
  assert.deepEqual(b.store.spaces(), [])

  const since = wire.sent.length
  for (let i = 0; i < 20; i++) origin.append(a.keyPair, { t: 'kv.put', key: `after${i}`, value: i }, T0 + 100 + i)
  a.engine.append(origin.key, { t: 'kv.put', key: 'last', value: 1 }, wire.nowMs)
  wire.flush()
  assert.deepEqual(aboutSpace(wire, since, b, a, origin), [], 'b asks for nothing of it and announces nothing')
  assert.ok(aboutSpace(wire, since, a, b, origin).every(m => m === 'have'), 'a only announces (it still counts b a member)')

  a.engine.disconnect(b.name, wire.nowMs)
  b.engine.disconnect(a.name, wire.nowMs)
  const again = wire.sent.length
  wire.connect(a, b)
  wire.advance(REQUEST_TIMEOUT_MS * 2)
  assert.deepEqual(aboutSpace(wire, again, b, a, origin), [], 'b\'s hello no longer names it, and it pulls nothing')
  assert.deepEqual(b.store.spaces(), [], 'a\'s hello of the space adopts nothing')
  assert.equal(b.engine.stats.entriesIn, entriesIn, 'no entry of it came in since')
  assert.ok(aboutSpace(wire, again, a, b, origin).every(m => m === 'have'), 'a serves it nothing')
  assert.equal(a.events.filter(e => e.type === 'misbehaviour').length + b.events.filter(e => e.type === 'misbehaviour').length, 0)
})

test('a pull under way when the node leaves ends: its late answer is dropped, nothing is asked again, nobody is charged', () => {
  const { wire, a, b, origin } = twoMembers()
  wire.holding.add(`${a.name}>${b.name}:entries`)
  wire.connect(a, b)
  assert.ok(wire.count('want', a, b) > 0, 'b asked')
  assert.ok(b.engine.nextDeadline() !== null, 'the pull waits for its answer')
  leave(b, origin)
  assert.equal(b.engine.nextDeadline(), null, 'no pull of it is waited for')
  const wants = wire.count('want', a, b)
  wire.release()
  wire.advance(REQUEST_TIMEOUT_MS * 3)
  assert.equal(wire.count('want', a, b), wants, 'asked nothing again')
  assert.deepEqual(b.store.spaces(), [])
  assert.equal(b.events.filter(e => e.type === 'misbehaviour').length, 0, 'the late answer is no offence of a')
})

test('a member that left joins again with a new invite: the issuer answers already-member and its hello, and it catches up', () => {
  const { wire, a, b, origin } = twoMembers()
  wire.connect(a, b)
  const before = b.replicas.get(origin.key)?.viewHash()
  leave(b, origin)
  for (let i = 0; i < 5; i++) a.engine.append(origin.key, { t: 'kv.put', key: `gone${i}`, value: i }, wire.nowMs)
  wire.flush()

  const inviteKey = seededKey('leave', 'invite')
  const invite = a.engine.append(origin.key, { t: 'invite', key: inviteKey.publicKey, role: 'writer', uses: 1, expiresMs: T0 + 1e9 }, wire.nowMs)
  const again = SpaceReplica.adopt(b.store, [origin.genesis.bytes, origin.genesis.sig]) as SpaceReplica
  b.replicas.set(again.key, again)
  b.engine.join(again.key, invite.id, inviteKey, wire.nowMs) // as `space join` does, on the session already open
  wire.flush()
  const answers = b.events.filter(e => e.type === 'join-answer')
  assert.deepEqual(answers.map(e => e.type === 'join-answer' && e.outcome), ['already-member'])
  assert.equal(again.acl.currentRole(b.name), 'writer', 'its role came back by catch-up')
  assert.equal(again.kvGet('gone4')?.value, 4, 'and what was written while it was away')
  assert.notEqual(again.viewHash(), before)
  assert.equal(again.viewHash(), origin.viewHash())
})
