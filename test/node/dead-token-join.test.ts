/**
 * `space join` with a token that can admit nobody any more (revoked, expired, every use taken), presented to a member
 * that did not issue it: that member used to answer 'waiting', and the joiner's node believed refusals from the
 * issuer only, so the command waited its whole --wait and then said the inviter was not reachable. Now it ends at
 * the member's answer with the reason and what to do; a live token still waits. The engines run on the test wire;
 * their join answers go to the node's JoinWaits as node-events.ts hands them on.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeEntry } from '../../src/codec/index.ts'
import { entryIdOf } from '../../src/ids/index.ts'
import type { AuthorKey, EntryId, SpaceKey } from '../../src/ids/index.ts'
import { JoinWaits } from '../../src/node/join-wait.ts'
import type { JoinOutcome } from '../../src/node/join-wait.ts'
import { joinError } from '../../src/node/membership.ts'
import { answersTo, deadTokenWorld, INVITE_EXPIRES_MS, replicaOf } from '../sync/dead-token-world.ts'
import type { DeadTokenWorld } from '../sync/dead-token-world.ts'
import type { Peer } from '../sync/wire.ts'

const WAIT_MS = 60_000

/** J's `space join` as member-commands.ts waits for it (the token names O as issuer); J then presents its join to M. */
function joinVia (world: DeadTokenWorld, J: Peer): { waits: JoinWaits, outcome: Promise<JoinOutcome> } {
  const { wire, O, M } = world
  const replica = replicaOf(J)
  const [bytes, sig] = replica.pendingJoin(J.name) ?? assert.fail('J has no join')
  const waits = new JoinWaits()
  const outcome = waits.wait(replica.key, entryIdOf(decodeEntry(bytes, sig).id), O.name,
    () => replica.localRole(J.name) !== null, WAIT_MS)
  wire.connect(J, M)
  for (const a of answersTo(J)) waits.answered(a.space, a.join, a.from, a.outcome, a.detail)
  return { waits, outcome }
}

/** The outcome if the wait ended by now, else 'still waiting'. */
async function settled (outcome: Promise<JoinOutcome>): Promise<JoinOutcome | 'still waiting'> {
  return await Promise.race([outcome, new Promise<'still waiting'>(resolve => setImmediate(() => resolve('still waiting')))])
}

test('a used-up token presented to a member that did not issue it: the join ends at once, saying why and what to do', async () => {
  const world = deadTokenWorld('joinDead1')
  world.wire.connect(world.joiner('winner'), world.O)
  world.meet(world.M, world.O)
  const { outcome } = joinVia(world, world.joiner('late'))
  const ended = await settled(outcome)
  assert.ok(ended !== 'still waiting' && !ended.ok, 'the join still waits for an answer that cannot come')
  assert.equal(ended.reason, 'uses-exhausted')
  const err = joinError(ended, 'team')
  assert.equal(err.code, 'JOIN_REFUSED')
  assert.match(err.message, /can admit nobody any more \(uses-exhausted\): all 1 use of this invite are taken; ask for a new invite/)
})

test('a revoked token, and an expired one, presented to a member that did not issue it: JOIN_REFUSED, EXPIRED_TOKEN', async () => {
  const revoked = deadTokenWorld('joinDead2')
  revoked.O.engine.append(replicaOf(revoked.O).key, { t: 'invite.revoke', invite: revoked.invite.id, keep: [] },
    revoked.wire.nowMs)
  revoked.meet(revoked.M, revoked.O)
  const r = await settled(joinVia(revoked, revoked.joiner('j')).outcome)
  assert.ok(r !== 'still waiting' && !r.ok, 'a revoked token\'s join still waits')
  assert.equal(joinError(r, 'team').code, 'JOIN_REFUSED')
  assert.match(joinError(r, 'team').message, /\(invite-revoked\): this invite was revoked; ask for a new invite/)

  const expired = deadTokenWorld('joinDead3')
  const K = expired.joiner('k')
  expired.wire.nowMs = INVITE_EXPIRES_MS + 1
  const e = await settled(joinVia(expired, K).outcome)
  assert.ok(e !== 'still waiting' && !e.ok, 'an expired token\'s join still waits')
  assert.equal(joinError(e, 'team').code, 'EXPIRED_TOKEN')
  assert.match(joinError(e, 'team').message, /^this invite expired at \S+; ask for a new invite$/)
})

test('a live token presented to a member that did not issue it: the join waits for the issuer', async () => {
  const world = deadTokenWorld('joinLive1', 2)
  world.wire.connect(world.joiner('first'), world.O)
  world.meet(world.M, world.O)
  const { waits, outcome } = joinVia(world, world.joiner('j'))
  assert.equal(await settled(outcome), 'still waiting')
  waits.close()
  assert.equal((await outcome as { reason: string }).reason, 'stopped')
})

test('a member\'s dead-token refusal is not believed once the issuer said it admitted the join', async () => {
  const [space, join, issuer] = ['space' as SpaceKey, 'join' as EntryId, 'issuer' as AuthorKey]
  const waits = new JoinWaits()
  const outcome = waits.wait(space, join, issuer, () => false, WAIT_MS)
  waits.answered(space, join, issuer, 'redeemed', '')
  waits.answered(space, join, 'member', 'uses-exhausted', 'all 1 use of this invite are taken')
  assert.equal(await settled(outcome), 'still waiting')
  waits.answered(space, join, 'member', 'issuer-not-admin', 'a refusal only the issuer gives')
  assert.equal(await settled(outcome), 'still waiting')
  waits.close()
  await outcome
})
