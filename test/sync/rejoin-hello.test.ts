import { test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeMessage } from '../../src/codec/index.ts'
import { SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { Wire } from '../sync/wire.ts'

/**
 * Review (issue 16's rejoin): the issuer answers an already-member join with
 * its hello of the space (sync/membership.ts answerJoin). A member holding any
 * unexpired invite of the issuer can present one join again and again: each
 * copy (a few hundred bytes, solicited as a join, never charged) costs the
 * issuer a vector of every feed of the space, queued outside the serve budget.
 * Once a session is enough for a member that left to catch up; a copy of a
 * join in one session is answered by a charge (an honest peer presents each
 * join once a session).
 */
test('a member re-sending one already-member join gets the space\'s hello once a session, not once per copy, ' +
  'and is charged for the copies', () => {
  const [o, w] = [seededKey('review-hello', 'owner'), seededKey('review-hello', 'writer')]
  const store = new MemoryStore()
  const origin = SpaceReplica.create(store, o, 'team', T0)
  origin.append(o, { t: 'acl.grant', member: w.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, T0 + 1)
  for (let i = 0; i < 20; i++) { // feeds of 20 epochs (each restart of a writer opens one): the hello grows with them
    origin.openEpoch(origin.owner, T0 + 10 + i * 1000)
    origin.append(o, { t: 'kv.put', key: `k${i}`, value: i }, T0 + 11 + i * 1000)
  }
  const theirs = new MemoryStore()
  SpaceReplica.adopt(theirs, [origin.genesis.bytes, origin.genesis.sig])
  const wire = new Wire(T0 + 100_000)
  const a = wire.add(o, store)
  const b = wire.add(w, theirs)
  wire.connect(a, b)

  const inviteKey = seededKey('review-hello', 'invite')
  const invite = a.engine.append(origin.key,
    { t: 'invite', key: inviteKey.publicKey, role: 'writer', uses: 1, expiresMs: T0 + 1e9 }, wire.nowMs)
  wire.flush()
  const join = b.engine.join(origin.key, invite.id, inviteKey, wire.nowMs) // b is a writer already
  wire.flush()
  const hellos = wire.count('hello', b, a)
  const copies = 50
  for (let i = 0; i < copies; i++) {
    wire.inject(b, a, encodeMessage({ m: 'entries', space: origin.id, run: [[join.bytes, join.sig]] }), 'entries')
  }
  const more = wire.count('hello', b, a) - hellos
  const helloBytes = wire.sent.filter(m => m.type === 'hello' && m.to === b.name).slice(-more).reduce((n, m) => n + m.bytes.length, 0)
  const inBytes = wire.sent.filter(m => m.type === 'entries' && m.from === b.name).slice(-copies).reduce((n, m) => n + m.bytes.length, 0)
  assert.ok(more <= 1, `${copies} copies of one join (${inBytes} bytes) drew ${more} hellos of the whole space ` +
    `(${helloBytes} bytes, queued unbounded for a peer that does not read), and no charge: ` +
    `${a.events.filter(e => e.type === 'misbehaviour').length} misbehaviour events`)
  const charged = a.events.filter(e => e.type === 'misbehaviour' && e.peer === b.name)
  assert.ok(charged.length > 0, 'copies of one join are charged to their sender')
})
