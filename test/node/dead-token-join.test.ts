/**
 * `space join` with a token that can admit nobody any more (revoked, expired, every use taken), presented to a member
 * that did not issue it: that member used to answer 'waiting', and the joiner's node believed refusals from the
 * issuer only, so the command waited its whole --wait and then said the inviter was not reachable, not why. Now the
 * member says why, and the wait's end gives that reason and what to do (the wait still runs out: the joiner holds no
 * member list, so any peer knowing the space could say it, and a lie must not end a join the issuer would admit);
 * a live token still waits. The engines run on the test wire; their join answers go to the node's JoinWaits as
 * node-events.ts hands them on.
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
/** A wait that runs out: the member's answer is taken synchronously in joinVia, before any timer can fire. */
const SHORT_WAIT_MS = 50

/** J's `space join` as member-commands.ts waits for it (the token names O as issuer); J then presents its join to M. */
function joinVia (world: DeadTokenWorld, J: Peer, waitMs = WAIT_MS): { waits: JoinWaits, outcome: Promise<JoinOutcome> } {
  const { wire, O, M } = world
  const replica = replicaOf(J)
  const [bytes, sig] = replica.pendingJoin(J.name) ?? assert.fail('J has no join')
  const waits = new JoinWaits()
  const outcome = waits.wait(replica.key, entryIdOf(decodeEntry(bytes, sig).id), O.name,
    () => replica.localRole(J.name) !== null, waitMs)
  wire.connect(J, M)
  for (const a of answersTo(J)) waits.answered(a.space, a.join, a.from, a.outcome, a.detail)
  return { waits, outcome }
}

/** The outcome if the wait ended by now, else 'still waiting'. */
async function settled (outcome: Promise<JoinOutcome>): Promise<JoinOutcome | 'still waiting'> {
  return await Promise.race([outcome, new Promise<'still waiting'>(resolve => setImmediate(() => resolve('still waiting')))])
}

test('a used-up token presented to a member that did not issue it: the join ends saying why and what to do', async () => {
  const world = deadTokenWorld('joinDead1')
  world.wire.connect(world.joiner('winner'), world.O)
  world.meet(world.M, world.O)
  const { outcome } = joinVia(world, world.joiner('late'), SHORT_WAIT_MS)
  const ended = await outcome
  assert.ok(!ended.ok)
  assert.equal(ended.reason, 'uses-exhausted', 'the member\'s reason is not what the join says')
  const err = joinError(ended, 'team')
  assert.equal(err.code, 'JOIN_REFUSED')
  assert.match(err.message, /can admit nobody any more \(uses-exhausted\): all 1 use of this invite are taken \(so says a peer that holds the space, not the inviter, .*\); ask for a new invite$/)
})

test('a revoked token, and an expired one, presented to a member that did not issue it: JOIN_REFUSED, EXPIRED_TOKEN', async () => {
  const revoked = deadTokenWorld('joinDead2')
  revoked.O.engine.append(replicaOf(revoked.O).key, { t: 'invite.revoke', invite: revoked.invite.id, keep: [] },
    revoked.wire.nowMs)
  revoked.meet(revoked.M, revoked.O)
  const r = await joinVia(revoked, revoked.joiner('j'), SHORT_WAIT_MS).outcome
  assert.ok(!r.ok)
  assert.equal(joinError(r, 'team').code, 'JOIN_REFUSED')
  assert.match(joinError(r, 'team').message, /\(invite-revoked\): this invite was revoked \(so says a peer that holds the space, not the inviter, .*\); ask for a new invite$/)

  const expired = deadTokenWorld('joinDead3')
  const K = expired.joiner('k')
  expired.wire.nowMs = INVITE_EXPIRES_MS + 1
  const e = await joinVia(expired, K, SHORT_WAIT_MS).outcome
  assert.ok(!e.ok)
  assert.equal(joinError(e, 'team').code, 'EXPIRED_TOKEN')
  assert.match(joinError(e, 'team').message, /^this invite expired at \S+ \(so says a peer that holds the space, not the inviter, which did not answer within 0 s; .*\); ask for a new invite$/)
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

test('a member\'s dead-token refusal ends no wait early, and is not the reason once the issuer admitted the join', async () => {
  const [space, join, issuer] = ['space' as SpaceKey, 'join' as EntryId, 'issuer' as AuthorKey]
  const waits = new JoinWaits()
  // A lie from any peer that knows the space: the join waits on for the issuer.
  const lied = waits.wait(space, join, issuer, () => false, WAIT_MS)
  waits.answered(space, join, 'member', 'uses-exhausted', 'all 1 use of this invite are taken')
  assert.equal(await settled(lied), 'still waiting')
  waits.close()
  assert.equal((await lied as { reason: string }).reason, 'stopped')

  const outcome = waits.wait(space, join, issuer, () => false, SHORT_WAIT_MS)
  waits.answered(space, join, issuer, 'redeemed', '')
  waits.answered(space, join, 'member', 'uses-exhausted', 'all 1 use of this invite are taken')
  waits.answered(space, join, 'member', 'issuer-not-admin', 'a refusal only the issuer gives')
  assert.equal((await outcome as { reason: string }).reason, 'not-synced')
})
