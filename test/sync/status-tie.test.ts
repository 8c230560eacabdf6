/**
 * A member signs two status records at one clock and hands one to each of two honest neighbours. Each replica keeps
 * the higher id when it sees both (space/ingest.ts); the heads gossip announces carry the id, so a node holding the
 * other one asks for it. With the clock alone, A announced (clock c) to B, B held clock c already and never asked, and
 * the same the other way: two honest nodes held different records of M until it published again (a review's probe).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeMessage } from '../../src/codec/index.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import { signStatus, SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { Wire } from './wire.ts'

test('two records of one member at one clock: every honest replica ends with the same one', () => {
  const o = seededKey('tieg', 'owner'); const b = seededKey('tieg', 'b'); const m = seededKey('tieg', 'm')
  const store = new MemoryStore()
  const origin = SpaceReplica.create(store, o, 'samepage-status', T0)
  origin.append(o, { t: 'acl.grant', member: b.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, T0 + 1)
  origin.append(o, { t: 'acl.grant', member: m.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, T0 + 2)
  const adopted = (): MemoryStore => { const s = new MemoryStore(); SpaceReplica.adopt(s, [origin.genesis.bytes, origin.genesis.sig]); return s }
  const wire = new Wire(T0 + 10)
  const A = wire.add(o, store); const B = wire.add(b, adopted()); const M = wire.add(m, adopted())
  wire.connect(A, B); wire.connect(A, M); wire.connect(B, M)
  const rA = [...A.replicas.values()][0] as SpaceReplica
  const rB = [...B.replicas.values()][0] as SpaceReplica
  const MK = authorKeyOf(m.publicKey)
  assert.equal(rB.acl.currentRole(MK), 'writer', 'B caught up on the ACL')
  const rec = (name: string) => {
    const s = signStatus(m, { space: rA.id, author: m.publicKey, clock: { wallMs: wire.nowMs, counter: 5 }, body: { v: 1, n: name } })
    return [s.bytes, s.sig] as [Uint8Array, Uint8Array]
  }
  wire.inject(M, A, encodeMessage({ m: 'status', space: rA.id, record: rec('up and fine') }))
  wire.inject(M, B, encodeMessage({ m: 'status', space: rA.id, record: rec('ALERT: disk full') }))
  wire.flush()
  const onA = rA.status(MK)?.body.n; const onB = rB.status(MK)?.body.n
  assert.equal(onA, onB, 'honest replicas A and B hold different status records of M after gossip settled')
  assert.ok(onA === 'up and fine' || onA === 'ALERT: disk full')
})
