/**
 * Leaving a space ends its pulls, and the budget they held at a peer is free
 * again: pulls of the node's other spaces that waited for room at that peer
 * go on. (They waited for good before: nothing else plans them. Found by a
 * hostile hunt for liveness gaps.)
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesEqual, decodeMessage } from '../../src/codec/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import { SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { Wire } from './wire.ts'

const entriesHeld = (r: SpaceReplica): number => r.vector().reduce((n, row) => n + row.count, 0)

test('leaving a space whose pulls filled a peer\'s budget lets the pulls of another space waiting for that peer go on', () => {
  // Seeds under which space two's one pull is the one left waiting (which waits depends on the keys' order).
  const [s, r] = ['s', 'r'].map(n => seededKey('hw', n)) as [KeyPair, KeyPair]
  const writers = [0, 1, 2].map(i => seededKey('hw', `w${i}`))
  const store = new MemoryStore()
  const [one, two] = ['one', 'two'].map(name => SpaceReplica.create(store, s, name, T0)) as [SpaceReplica, SpaceReplica]
  for (const sp of [one, two]) sp.append(s, { t: 'acl.grant', member: r.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, T0 + 1)
  writers.forEach((w, i) => one.append(s, { t: 'acl.grant', member: w.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, T0 + 2 + i))
  // Four feeds of 100 entries in space one (a pull of one reserves ~6 MiB of the peer's budget: three fit), one in two.
  for (const w of [s, ...writers]) for (let i = 0; i < 100; i++) one.append(w, { t: 'kv.put', key: `k${i}`, value: i }, T0 + 10 + i)
  for (let i = 0; i < 100; i++) two.append(s, { t: 'kv.put', key: `k${i}`, value: i }, T0 + 10 + i)
  const readerStore = new MemoryStore()
  for (const sp of [one, two]) SpaceReplica.adopt(readerStore, [sp.genesis.bytes, sp.genesis.sig])
  // The reader holds space one's grants already (the first four entries of the server's feed): it pulls all feeds.
  const own = one.vector().find(row => authorKeyOf(row.author) === authorKeyOf(s.publicKey))
  assert.ok(own !== undefined)
  const grants = one.serve(authorKeyOf(s.publicKey), own.epoch, 0, 4)
  assert.equal(SpaceReplica.open(readerStore, one.key).ingestRun(grants, 'setup', T0 + 100).stored.length, 4)
  const wire = new Wire(T0 + 1000)
  const S = wire.add(s, store)
  const R = wire.add(r, readerStore)
  // The reader's wants are slow to reach the server; meanwhile its user leaves space one.
  wire.holding.add(`${R.name}>${S.name}:want`)
  wire.connect(S, R)
  const wantsOfTwo = wire.sent.filter(m => m.from === R.name && m.type === 'want' &&
    bytesEqual((decodeMessage(m.bytes) as { space: Uint8Array }).space, two.id))
  assert.deepEqual(wantsOfTwo, [], 'space two\'s pull waits for room at the server')
  R.replicas.delete(one.key)
  R.engine.spaceRemoved(one.key, wire.nowMs)
  wire.release()
  for (let i = 0; i < 10 && entriesHeld(R.replicas.get(two.key) as SpaceReplica) < entriesHeld(two); i++) wire.advance(1_000)
  assert.equal(entriesHeld(R.replicas.get(two.key) as SpaceReplica), entriesHeld(two), 'space two caught up')
})
