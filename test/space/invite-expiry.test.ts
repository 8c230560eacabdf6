/**
 * Which expired invites a member's node revokes (design decision 9: "admins'
 * nodes revoke the invites that have expired"), computed by the pure ACL from
 * the stored entries and a time passed in: the same authority rule as the ACL
 * applies to invite.revoke, the joins to keep, and what the revoke does.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { compareBytes, decodeEntry, INVITE_KEEP_MAX, toHex } from '../../src/codec/index.ts'
import type { Body, Entry, GrantableRole, Role } from '../../src/codec/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { signEntry, signJoinProof } from '../../src/space/index.ts'
import { Acl } from '../../src/space/acl.ts'
import type { RevocableInvite, SpaceReplica } from '../../src/space/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { Forger, Origin, fresh, hex, wire } from './scenario.ts'
import { entryIdOf } from '../../src/ids/index.ts'

const K = (name: string): KeyPair => seededKey('invite-expiry', name)
const O = K('owner'); const A = K('admin'); const A2 = K('admin-2'); const W = K('writer')
const J1 = K('joiner-1'); const J2 = K('joiner-2'); const J3 = K('joiner-3')
const INV_O = K('invite-o'); const INV_A = K('invite-a'); const INV_LATER = K('invite-later')

function invite (o: Origin, by: KeyPair, key: KeyPair, role: GrantableRole, uses: number, expiresMs: number): Entry {
  return o.append(by, { t: 'invite', key: key.publicKey, role, uses, expiresMs })
}

const ids = (list: readonly RevocableInvite[]): string[] => list.map(i => entryIdOf(i.invite)).sort()
const idsOf = (...es: Entry[]): string[] => es.map(e => entryIdOf(e.id)).sort()
const revokeBody = (i: RevocableInvite): Body => ({ t: 'invite.revoke', invite: i.invite, keep: [...i.keep] })
const roleOf = (r: SpaceReplica, k: KeyPair): Role | null | undefined => r.aclList().find(m => m.member === hex(k))?.role

/** Owner O, admins A and A2, writer W; invites by O (expires T0+1,000), by A (T0+2,000) and by A (far). */
function setting (name: string): { o: Origin, invO: Entry, invA: Entry, invLater: Entry } {
  const o = new Origin(O, name)
  o.grant(O, A, 'admin', { epoch: 0, seq: 0 })
  o.grant(O, A2, 'admin', { epoch: 0, seq: 0 })
  o.grant(A, W, 'writer', { epoch: 0, seq: 0 })
  const invO = invite(o, O, INV_O, 'writer', 2, T0 + 1_000)
  const invA = invite(o, A, INV_A, 'writer', 2, T0 + 2_000)
  const invLater = invite(o, A, INV_LATER, 'reader', 2, T0 + 1e9)
  return { o, invO, invA, invLater }
}

describe('decision 9: the expired invites a member may revoke', () => {
  test('expired means expiresMs < now; the owner may revoke every invite, an admin only admins\' invites, others none', () => {
    const { o, invO, invA, invLater } = setting('expired-authority')
    const acl = o.replica.acl
    assert.deepEqual(ids(acl.expiredInvites(hex(O), T0 + 1_000)), [], 'not yet expired at its expiry time itself')
    assert.deepEqual(ids(acl.expiredInvites(hex(O), T0 + 1_001)), idsOf(invO))
    assert.deepEqual(ids(acl.expiredInvites(hex(A), T0 + 1_001)), [], 'the owner\'s invite is the owner\'s to revoke')
    assert.deepEqual(ids(acl.expiredInvites(hex(O), T0 + 2_001)), idsOf(invO, invA))
    assert.deepEqual(ids(acl.expiredInvites(hex(A), T0 + 2_001)), idsOf(invA))
    assert.deepEqual(ids(acl.expiredInvites(hex(A2), T0 + 2_001)), idsOf(invA), 'any admin may revoke another admin\'s invite')
    assert.deepEqual(ids(acl.expiredInvites(hex(W), T0 + 2_001)), [])
    assert.deepEqual(ids(acl.expiredInvites(hex(J1), T0 + 2_001)), [])
    assert.deepEqual(ids(acl.openInvites(hex(A))), idsOf(invA, invLater))
    const a = acl.expiredInvites(hex(A), T0 + 2_001)[0] as RevocableInvite
    assert.equal(a.issuer, hex(A))
    assert.equal(a.expiresMs, T0 + 2_000)

    // A revoked admin revokes nothing; the owner still may revoke the invite that admin issued.
    o.revoke(O, A, { epoch: o.feedOf(A)[0]?.epoch as number, seq: o.feedOf(A).length })
    assert.deepEqual(ids(o.replica.acl.expiredInvites(hex(A), T0 + 2_001)), [])
    assert.deepEqual(ids(o.replica.acl.expiredInvites(hex(O), T0 + 2_001)), idsOf(invO, invA))
  })

  test('keep names every join held for the invite; after the revoke the earlier joins stay, later ones never count', () => {
    const { o, invA } = setting('expired-keep')
    const j1 = o.append(J1, { t: 'join', invite: invA.id, proof: signedProof(o, INV_A, J1) })
    const j2 = o.append(J2, { t: 'join', invite: invA.id, proof: signedProof(o, INV_A, J2) })
    o.redeem(invA, j1, A)
    o.redeem(invA, j2, A)
    const now = T0 + 2_001
    const [due] = o.replica.acl.expiredInvites(hex(A), now) as [RevocableInvite]
    assert.deepEqual(due.keep.map(toHex).sort(), idsOf(j1, j2))
    o.append(A, revokeBody(due))
    assert.deepEqual(ids(o.replica.acl.expiredInvites(hex(A), now)), [], 'revoked: not listed again')
    assert.deepEqual(ids(o.replica.acl.expiredInvites(hex(O), now)).includes(entryIdOf(invA.id)), false, 'nor for the owner')
    assert.equal(roleOf(o.replica, J1), 'writer')
    assert.equal(roleOf(o.replica, J2), 'writer')
    // A join made after the revoke (one presented at no handshake, arriving through catch-up) takes nothing.
    o.append(J3, { t: 'join', invite: invA.id, proof: signedProof(o, INV_A, J3) })
    assert.equal(roleOf(o.replica, J3) ?? null, null)
    assert.equal(roleOf(o.replica, J1), 'writer')
  })

  test('an invite redeemed more times than a revoke may keep: its revoke keeps the first it can, and decodes', () => {
    // Review A: the sweep's revoke kept every join, receivers refuse a keep past KEEP_MAX, and the honest issuer was
    // blamed everywhere while the invite stayed open; and 4,096 joins do not fit in an entry. The joins that count
    // come first (its redemptions, in feed order).
    const id = (n: number): Uint8Array => new Uint8Array(32).fill(0).map((_, i) => i < 4 ? (n >>> (24 - 8 * i)) & 0xff : 1)
    const redeemed = Array.from({ length: INVITE_KEEP_MAX + 10 }, (_, i) => id(i + 2))
    const notRedeemed = id(1) // held, sorts first by id, never redeemed: kept only if room is left
    const acl = new Acl(hex(O), new Map(), new Map(), [], [{
      id: id(0), issuer: hex(O), expiresMs: T0, revoked: false, joins: [notRedeemed, ...redeemed], role: 'writer',
      uses: 5000, redeemed
    }])
    const [due] = acl.expiredInvites(hex(O), T0 + 1) as [RevocableInvite]
    assert.deepEqual(due.keep, redeemed.slice(0, INVITE_KEEP_MAX))
    assert.equal(due.redeemed, INVITE_KEEP_MAX + 10, 'the sweep is told how many it would drop')
    const e = signEntry(O, { space: new Uint8Array(36), author: O.publicKey, epoch: 1, seq: 0, prev: null,
      clock: { wallMs: T0, counter: 0 }, body: revokeBody(due) })
    assert.deepEqual(decodeEntry(e.bytes, e.sig).body, revokeBody(due), 'every receiver decodes it')
    // Below the bound nothing is dropped: the redeemed, then the others held.
    const few = new Acl(hex(O), new Map(), new Map(), [], [{
      id: id(0), issuer: hex(O), expiresMs: T0, revoked: false, joins: [notRedeemed, id(2)], role: 'writer', uses: 5,
      redeemed: [id(3), id(2)]
    }])
    assert.deepEqual(few.expiredInvites(hex(O), T0 + 1)[0]?.keep, [id(3), id(2), notRedeemed])
  })

  test('a late join with a lower id than a kept one does not take its use', () => {
    const o = new Origin(O, 'expired-late-lower')
    const inv = invite(o, O, INV_O, 'writer', 1, T0 + 1_000)
    const j1 = o.append(J1, { t: 'join', invite: inv.id, proof: signedProof(o, INV_O, J1) })
    o.redeem(inv, j1, O)
    const [due] = o.replica.acl.expiredInvites(hex(O), T0 + 1_001) as [RevocableInvite]
    o.append(O, revokeBody(due))
    // Find a joiner whose join id sorts below j1's (ids are hashes: about one in two).
    let late: { k: KeyPair, e: Entry } | undefined
    for (let i = 0; late === undefined && i < 64; i++) {
      const k = K(`late-${i}`)
      const e = signedJoin(o, k, inv, INV_O)
      if (compareBytes(e.id, j1.id) < 0) late = { k, e }
    }
    assert.ok(late !== undefined)
    assert.equal(o.replica.ingestRun([wire(late.e)], 'peer', o.t + 10).stored.length, 1)
    assert.equal(roleOf(o.replica, J1), 'writer', 'the kept join keeps its use')
    assert.equal(roleOf(o.replica, late.k) ?? null, null)
  })

  test('two admins revoking from the same entries keep the same joins: the same view as one revoke, in any order', () => {
    const { o, invA } = setting('expired-two-revokes')
    o.redeem(invA, o.append(J1, { t: 'join', invite: invA.id, proof: signedProof(o, INV_A, J1) }), A)
    o.redeem(invA, o.append(J2, { t: 'join', invite: invA.id, proof: signedProof(o, INV_A, J2) }), A)
    const now = T0 + 2_001
    const byA = o.replica.acl.expiredInvites(hex(A), now)
    const byA2 = o.replica.acl.expiredInvites(hex(A2), now)
    assert.deepEqual(byA.map(i => i.keep.map(toHex)), byA2.map(i => i.keep.map(toHex)))
    const one = fresh(o.genesis)
    for (const feed of o.feeds.values()) one.ingestRun(feed.map(wire), 'peer', now)
    const r1 = o.append(A, revokeBody(byA[0] as RevocableInvite))
    one.ingestRun([wire(r1)], 'peer', now)
    o.append(A2, revokeBody(byA2[0] as RevocableInvite))
    assert.equal(roleOf(o.replica, J1), 'writer')
    assert.equal(roleOf(o.replica, J2), 'writer')
    assert.equal(o.replica.viewHash(), one.viewHash(), 'the second revoke changes nothing')
    const reversed = fresh(o.genesis)
    for (const feed of [...o.feeds.values()].reverse()) reversed.ingestRun(feed.map(wire), 'peer', now)
    assert.equal(reversed.viewHash(), o.replica.viewHash())
  })

  test('an issuer\'s unused invites (what a leave leaves unanswered): not revoked, not expired, uses left', () => {
    const { o, invA, invLater } = setting('unused')
    const acl = (): SpaceReplica['acl'] => o.replica.acl
    assert.equal(acl().unusedInvites(hex(A), T0 + 1_500), 2, 'invA and invLater')
    assert.equal(acl().unusedInvites(hex(A), T0 + 2_000), 2, 'invA expires after its expiry time')
    assert.equal(acl().unusedInvites(hex(A), T0 + 2_001), 1)
    assert.equal(acl().unusedInvites(hex(O), T0 + 500), 1, 'only the issuer\'s own')
    assert.equal(acl().unusedInvites(hex(W), T0 + 500), 0)
    o.redeem(invLater, o.append(J1, { t: 'join', invite: invLater.id, proof: signedProof(o, INV_LATER, J1) }), A)
    assert.equal(acl().unusedInvites(hex(A), T0 + 2_001), 1, 'one use of two taken')
    o.redeem(invLater, o.append(J2, { t: 'join', invite: invLater.id, proof: signedProof(o, INV_LATER, J2) }), A)
    assert.equal(acl().unusedInvites(hex(A), T0 + 2_001), 0, 'both uses taken')
    o.append(O, revokeBody(acl().openInvites(hex(O)).find(i => entryIdOf(i.invite) === entryIdOf(invA.id))!))
    assert.equal(acl().unusedInvites(hex(A), T0 + 1_500), 0, 'revoked')
  })
})

const signedProof = (o: Origin, inviteKey: KeyPair, joiner: KeyPair): Uint8Array => signJoinProof(inviteKey, o.replica.id, joiner.publicKey)

/** A join signed by hand at seq 0 of a fresh epoch, not appended anywhere (as if made on another node). */
function signedJoin (o: Origin, joiner: KeyPair, inv: Entry, inviteKey: KeyPair): Entry {
  return new Forger(o.replica.id, o.t + 5).first(joiner, o.t + 5, { t: 'join', invite: inv.id, proof: signedProof(o, inviteKey, joiner) })
}
