/**
 * A node whose wall clock was ahead and is stepped back (an NTP correction) stored no peer's status record of an
 * author for as long as the step (a review's probe): the spacing compared nowMs - storedAt with STATUS_SPACING_MS,
 * negative until the clock caught up. A clock that went back now counts as the spacing gone by. Real engines on
 * test/sync/wire.ts, the time given by hand.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { authorKeyOf } from '../../src/ids/index.ts'
import { SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { Wire } from '../sync/wire.ts'

test('a clock stepped back by 1 h: a peer\'s newer status record is stored at once, as before the spacing', () => {
  const o = seededKey('clockstep', 'owner'); const b = seededKey('clockstep', 'b'); const m = seededKey('clockstep', 'm')
  const store = new MemoryStore()
  const origin = SpaceReplica.create(store, o, 'samepage-status', T0)
  origin.append(o, { t: 'acl.grant', member: b.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, T0 + 1)
  origin.append(o, { t: 'acl.grant', member: m.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, T0 + 2)
  const adopted = (): MemoryStore => { const s = new MemoryStore(); SpaceReplica.adopt(s, [origin.genesis.bytes, origin.genesis.sig]); return s }
  const HOUR = 3_600_000
  const real0 = T0 + 10
  // B's wall clock runs one hour ahead: the wire's clock is what B's engine is given.
  const wire = new Wire(real0 + HOUR)
  const A = wire.add(o, store); const B = wire.add(b, adopted()); const M = wire.add(m, adopted())
  wire.connect(A, B); wire.connect(B, M)
  const space = [...A.replicas.keys()][0]!
  const rB = B.replicas.get(space)!
  const MK = authorKeyOf(m.publicKey)
  assert.equal(rB.acl.currentRole(MK), 'writer')

  // M (correct clock) publishes; B (an hour ahead) stores it.
  M.engine.publishStatus(space, { n: 1 }, real0 + 1_000)
  wire.flush()
  assert.equal(rB.status(MK)?.body.n, 1, 'B stored record 1')

  // NTP steps B's clock back to the real time. Ten seconds later M publishes its next record (its period).
  wire.nowMs = real0 + 10_000
  M.engine.publishStatus(space, { n: 2 }, real0 + 10_000)
  wire.flush()
  assert.equal(rB.status(MK)?.body.n, 2, 'B stored M\'s newer record at once, not an hour later')
  assert.equal(B.engine.nextDeadline(), null, 'and holds nothing for later')
})
