/**
 * Joins whose invite can admit nobody any more (review F): a stranger holding a used-up token presented its join to
 * a member that did not issue the invite; that member kept its link as "a joiner under way" for good. (Such joins are
 * still stored: not holding them lost a member's later writes on nodes that caught up late, review H.) Such a member
 * told the joiner 'waiting' all the same, so `space join` waited for an answer that could never come: it now answers
 * the issuer's own refusal (review of the fixes), and only when it can tell.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { JOIN_WAITING_MAX_MS } from '../../src/sync/constants.ts'
import { answersTo, deadTokenWorld as world, INVITE_EXPIRES_MS, replicaOf } from './dead-token-world.ts'

test('a used-up token: its joiner is no joiner under way at a member that did not issue it', () => {
  const { wire, O, M, joiner } = world('dead1')
  const early = joiner('early') // presented to M while the use was free: waiting for O
  wire.connect(early, M)
  assert.equal(M.engine.joinWaiting(early.name, wire.nowMs), true)
  wire.connect(joiner('winner'), O) // O redeems it: the one use is taken
  wire.connect(M, O)
  assert.equal(M.engine.joinWaiting(early.name, wire.nowMs), false, 'its invite can admit nobody any more')
  const late = joiner('late')
  wire.connect(late, M)
  assert.equal(M.engine.joinWaiting(late.name, wire.nowMs), false)
  assert.ok(!M.events.some(e => e.type === 'misbehaviour'), 'a relayed or presented dead join is charged to nobody')
})

test('a live token: the joiner waits for JOIN_WAITING_MAX_MS at most, and not once its invite expired', () => {
  const { wire, M, joiner } = world('dead2')
  const J = joiner('j')
  wire.connect(J, M)
  assert.equal(M.engine.joinWaiting(J.name, wire.nowMs + JOIN_WAITING_MAX_MS - 1), true)
  assert.equal(M.engine.joinWaiting(J.name, wire.nowMs + JOIN_WAITING_MAX_MS), false)
  assert.equal(M.engine.joinWaiting(J.name, INVITE_EXPIRES_MS + 1), false, 'nor once the invite expired')
})

test('a member that did not issue a dead token\'s invite answers the issuer\'s refusal: every use taken, revoked, expired', () => {
  // Every use taken (as M sees the issuer's redemptions).
  const used = world('deadA1')
  used.wire.connect(used.joiner('winner'), used.O)
  used.meet(used.M, used.O)
  const late = used.joiner('late')
  used.wire.connect(late, used.M)
  assert.deepEqual(answersTo(late, used.M).map(a => a.outcome), ['uses-exhausted'])
  assert.match(answersTo(late, used.M)[0]?.detail ?? '', /all 1 use of this invite are taken/)
  // Revoked by its issuer while M was apart.
  const revoked = world('deadA2')
  revoked.O.engine.append(replicaOf(revoked.O).key, { t: 'invite.revoke', invite: revoked.invite.id, keep: [] },
    revoked.wire.nowMs)
  revoked.meet(revoked.M, revoked.O)
  const J = revoked.joiner('j')
  revoked.wire.connect(J, revoked.M)
  assert.deepEqual(answersTo(J, revoked.M).map(a => a.outcome), ['invite-revoked'])
  // Expired by M's clock.
  const expired = world('deadA3')
  const K = expired.joiner('k')
  expired.wire.nowMs = INVITE_EXPIRES_MS + 1
  expired.wire.connect(K, expired.M)
  assert.deepEqual(answersTo(K, expired.M).map(a => a.outcome), ['expired'])
  for (const { M } of [used, revoked, expired]) {
    assert.ok(!M.events.some(e => e.type === 'misbehaviour'), 'presenting a dead token is charged to nobody')
  }
})

test('a live token presented to a member that did not issue it still waits (a use left)', () => {
  const { wire, O, M, joiner, meet } = world('deadB1', 2)
  wire.connect(joiner('first'), O) // one of two uses taken: room left
  meet(M, O)
  const J = joiner('j')
  wire.connect(J, M)
  assert.deepEqual(answersTo(J, M).map(a => a.outcome), ['waiting'])
})

test('a join its issuer redeemed is not refused by a member, though its invite was revoked since', () => {
  const { wire, O, M, invite, joiner, meet } = world('deadC1')
  const J = joiner('j')
  wire.connect(J, M) // waits; M holds the join
  wire.muted.add(`${M.name}>${J.name}`) // J hears nothing more from M for now
  meet(M, O) // O gets the join from M and redeems it; M gets the redemption
  assert.equal(replicaOf(M).acl.currentRole(J.name), 'writer')
  assert.ok(replicaOf(J).pendingJoin(J.name) !== undefined, 'J does not know it was admitted')
  // Revoked as the issuer's sweep does it: the joins it redeemed keep their rights.
  const keep = replicaOf(O).acl.openInvites(O.name)[0]?.keep ?? []
  O.engine.append(replicaOf(O).key, { t: 'invite.revoke', invite: invite.id, keep }, wire.nowMs)
  meet(M, O)
  M.engine.disconnect(J.name, wire.nowMs)
  J.engine.disconnect(M.name, wire.nowMs)
  wire.muted.clear()
  J.events.length = 0
  wire.connect(J, M) // J presents its join again
  assert.deepEqual(answersTo(J, M).map(a => a.outcome), ['waiting'], 'a redeemed join is no dead token\'s')
  assert.equal(replicaOf(J).localRole(J.name), 'writer', 'and J catches up to its role')
})
