/**
 * Decision 18 as pure functions of the ACL (space/membership.ts): what an
 * invite's issuer answers a join, and which membership commands would change
 * nothing (refused before anything is written).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { grantRefusal, inviteRefusal, redeemDecision, revokeRefusal, signJoinProof } from '../../src/space/index.ts'
import type { Entry } from '../../src/codec/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { Forger, Origin, hex } from './scenario.ts'

const K = (name: string): KeyPair => seededKey('space-membership', name)
const O = K('owner'); const A = K('admin'); const W = K('writer'); const R = K('reader')
const J1 = K('j1'); const J2 = K('j2'); const J3 = K('j3'); const INV = K('inv'); const INV_A = K('inv-a')

function setting (): { o: Origin, inv: Entry, invA: Entry } {
  const o = new Origin(O, 'membership')
  o.grant(O, A, 'admin', { epoch: 0, seq: 0 })
  o.grant(A, W, 'writer', { epoch: 0, seq: 0 })
  o.grant(A, R, 'reader', { epoch: 0, seq: 0 })
  return { o, inv: o.invite(O, INV, 'writer', 1), invA: o.invite(A, INV_A, 'reader', 5) }
}

describe('decision 18: what the issuer answers a join', () => {
  test('only the issuer decides; a use is given once; then exhausted; a redeemed join is answered again as redeemed', () => {
    const { o, inv } = setting()
    const j1 = o.join(J1, inv, INV, false)
    assert.equal(redeemDecision(o.replica.acl, hex(A), j1, T0), undefined, 'an admin that did not issue it does not decide')
    assert.deepEqual(redeemDecision(o.replica.acl, hex(O), j1, T0), { ok: true, recorded: false })
    o.redeem(inv, j1)
    assert.deepEqual(redeemDecision(o.replica.acl, hex(O), j1, T0), { ok: true, recorded: true })
    const j2 = o.join(J2, inv, INV, false)
    assert.equal((redeemDecision(o.replica.acl, hex(O), j2, T0) as { reason: string }).reason, 'uses-exhausted')
  })

  test('expired, revoked invite, revoked member, issuer no longer admin: refused with the reason', () => {
    const { o, invA } = setting()
    const j1 = o.join(J1, invA, INV_A, false)
    assert.equal((redeemDecision(o.replica.acl, hex(A), j1, T0 + 2e10) as { reason: string }).reason, 'expired')
    o.redeem(invA, o.join(J3, invA, INV_A, false))
    o.revoke(A, J3, { epoch: o.feedOf(J3)[0]?.epoch as number, seq: 1 })
    // Its join with the same token in a new epoch, made on its own node (its replica here refuses its writes).
    const back = new Forger(o.replica.id, o.t).first(J3, o.t + 10, { t: 'join', invite: invA.id, proof: signJoinProof(INV_A, o.replica.id, J3.publicKey) })
    assert.equal((redeemDecision(o.replica.acl, hex(A), back, T0) as { reason: string }).reason, 'revoked-member')
    o.revoke(O, A, { epoch: o.feedOf(A)[0]?.epoch as number, seq: o.feedOf(A).length })
    assert.equal((redeemDecision(o.replica.acl, hex(A), j1, T0) as { reason: string }).reason, 'issuer-not-admin')
    const { o: o2, inv } = setting()
    const j = o2.join(J1, inv, INV, false)
    o2.append(O, { t: 'invite.revoke', invite: inv.id, keep: [] })
    assert.equal((redeemDecision(o2.replica.acl, hex(O), j, T0) as { reason: string }).reason, 'invite-revoked')
  })
})

describe('decision 18: membership commands that would change nothing are refused', () => {
  test('invites: admins and the owner; admin invites: the owner', () => {
    assert.equal(inviteRefusal('reader', 'reader', 's')?.code, 'NOT_ALLOWED')
    assert.equal(inviteRefusal('writer', 'reader', 's')?.code, 'NOT_ALLOWED')
    assert.equal(inviteRefusal(null, 'reader', 's')?.code, 'NOT_ALLOWED')
    assert.equal(inviteRefusal('admin', 'admin', 's')?.code, 'NOT_ALLOWED')
    assert.equal(inviteRefusal('admin', 'writer', 's'), undefined)
    assert.equal(inviteRefusal('owner', 'admin', 's'), undefined)
  })

  test('grants and revokes: by authority, never a no-op, never of a non-member or the owner', () => {
    const { o } = setting()
    const acl = o.replica.acl
    assert.equal(grantRefusal(acl, 'reader', hex(J1), 'reader', 's')?.code, 'NOT_ALLOWED')
    assert.equal(grantRefusal(acl, 'admin', hex(J1), 'admin', 's')?.code, 'NOT_ALLOWED')
    assert.equal(grantRefusal(acl, 'admin', hex(A), 'writer', 's')?.code, 'NOT_ALLOWED', 'an admin does not manage admins')
    assert.equal(grantRefusal(acl, 'owner', hex(O), 'admin', 's')?.code, 'NOT_ALLOWED')
    assert.equal(grantRefusal(acl, 'owner', hex(W), 'writer', 's')?.code, 'NO_CHANGE')
    assert.equal(grantRefusal(acl, 'owner', hex(W), 'reader', 's')?.code, 'NO_CHANGE', 'a lower grant demotes nobody')
    assert.equal(grantRefusal(acl, 'admin', hex(R), 'writer', 's'), undefined, 'a promotion takes effect')
    assert.equal(grantRefusal(acl, 'admin', hex(J1), 'reader', 's'), undefined)
    assert.equal(revokeRefusal(acl, 'writer', hex(R), 's')?.code, 'NOT_ALLOWED')
    assert.equal(revokeRefusal(acl, 'admin', hex(A), 's')?.code, 'NOT_ALLOWED')
    assert.equal(revokeRefusal(acl, 'owner', hex(O), 's')?.code, 'NOT_ALLOWED')
    assert.equal(revokeRefusal(acl, 'owner', hex(J1), 's')?.code, 'NOT_A_MEMBER')
    assert.equal(revokeRefusal(acl, 'admin', hex(W), 's'), undefined)
  })
})
