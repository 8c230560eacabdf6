/**
 * Which forks of a member the ACL counts (decision 7, acl-compute.ts): a fork cut's kept epochs, forks past a revoke or
 * in a re-granted window, and a revoke at a fork position. Every case delivers the same set in different orders and
 * asks for the same views (decision 4).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { FORK_HOLD_MAX_MS } from '../../src/space/index.ts'
import type { Entry } from '../../src/codec/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { seededKey } from '../helpers/fixtures.ts'
import { Forger, Origin, fresh, hex, wire } from './scenario.ts'

const K = (name: string): KeyPair => seededKey('space-acl', name)
const O = K('owner'); const A = K('admin'); const A2 = K('admin-2'); const W = K('writer')
const put = (key: string, value: unknown = key) => ({ t: 'kv.put', key, value }) as const

/**
 * W writes e1/0..e1/2 and forks at (e1, 1) (alt1, not ingested anywhere yet); the owner then grants W again from
 * (e2, 0), a new window the fork's cut does not close. `fg` goes on signing as W after the grant.
 */
function regrantedAfterFork (name: string): {
  o: Origin, e1: number, e2: number, a: Entry[], fg: Forger, alt1: Entry, regrant: Entry
} {
  const o = new Origin(O, name)
  o.grant(O, W, 'writer', { epoch: 0, seq: 0 })
  const e1 = o.epochOf(W)
  const a = [0, 1, 2].map(i => o.append(W, put(`e1/${i}`)))
  const fg = new Forger(o.replica.id, o.t + 10)
  const alt1 = fg.after(W, a[0] as Entry, put('e1/1-alt'))
  const e2 = e1 + 1000
  o.t = fg.t
  const regrant = o.grant(O, W, 'writer', { epoch: e2, seq: 0 })
  fg.t = o.t
  return { o, e1, e2, a, fg, alt1, regrant }
}

describe('decision 4 and 7: which forks of a member cut, and where', () => {
  test('a member granted again after its fork, which forks in its new epoch: that fork cuts too, on every branch', () => {
    // Of a member only its earliest forked epoch's proof counts (the cut retracts the later epochs), but a grant after
    // the fork opens a new window the cut does not close: a fork there must cut again. Counted only in the earliest
    // epoch, nodes holding either branch of the new epoch each kept theirs in view (a hostile review's probe).
    const { o, e2, a, fg, alt1, regrant } = regrantedAfterFork('fork-regrant-2')
    const b2 = fg.chain(W, { epoch: e2, prev: (a[2] as Entry).id }, [put('e2/0'), put('e2/1'), put('e2/2')])
    const alt21 = fg.after(W, b2[0] as Entry, put('e2/1-alt'))
    const now = fg.t + 100
    const n1 = fresh(o.genesis); const n2 = fresh(o.genesis)
    for (const r of [n1, n2]) {
      r.ingestRun(o.feedOf(O).map(wire), 'peer', now)
      r.ingestRun(a.map(wire), 'peer', now)
      assert.equal(r.ingestRun([wire(alt1)], 'peer', now).fork?.seq, 1)
      r.ingestRun([wire(regrant)], 'peer', now)
    }
    n1.ingestRun(b2.map(wire), 'peer', now)
    n2.ingestRun([b2[0] as Entry, alt21].map(wire), 'peer', now)
    const later = now + 2 * FORK_HOLD_MAX_MS
    n1.ingestFork(wire(b2[1] as Entry), wire(alt21), later)
    n2.ingestFork(wire(alt21), wire(b2[1] as Entry), later)
    for (const r of [n1, n2]) r.commitHeldForks(later + FORK_HOLD_MAX_MS)
    assert.deepEqual([n1, n2].map(r => r.acl.feedLimit(hex(W), e2)), [1, 1])
    const keys = ['e1/0', 'e1/1', 'e1/1-alt', 'e2/0', 'e2/1', 'e2/2', 'e2/1-alt']
    assert.deepEqual([n1, n2].map(r => keys.map(k => r.kvGet(k)?.value)),
      [n1, n2].map(() => ['e1/0', undefined, undefined, 'e2/0', undefined, undefined, undefined]))
    assert.equal(n1.viewHash(), n2.viewHash())
  })

  test('a fork past a revoke counts nowhere, whether a node took its proof before the revoke or refused it after', () => {
    // The owner revokes W at (e1, 1); W's fork at (e1, 2) reaches x before the revoke (stored) and y after (refused
    // as ungranted). Counted wherever it was stored, x's ACL had a cut y's had not (a review's probe).
    const o = new Origin(O, 'revoke-then-proof')
    o.grant(O, W, 'writer', { epoch: 0, seq: 0 })
    const e1 = o.epochOf(W)
    const a = [0, 1, 2, 3].map(i => o.append(W, put(`e1/${i}`)))
    const fg = new Forger(o.replica.id, o.t + 10)
    const alt = fg.after(W, a[1] as Entry, put('e1/2-alt'))
    o.t = fg.t
    o.revoke(O, W, { epoch: e1, seq: 1 })
    const now = fg.t + 100
    const x = fresh(o.genesis); const y = fresh(o.genesis)
    const owner = o.feedOf(O)
    x.ingestRun(owner.slice(0, -1).map(wire), 'peer', now)
    x.ingestRun(a.map(wire), 'peer', now)
    assert.equal(x.ingestFork(wire(a[2] as Entry), wire(alt), now).fork?.seq, 2)
    x.ingestRun(owner.slice(-1).map(wire), 'peer', now)
    y.ingestRun(owner.map(wire), 'peer', now)
    y.ingestRun(a.map(wire), 'peer', now)
    assert.equal(y.ingestFork(wire(a[2] as Entry), wire(alt), now).reject?.reason, 'ungranted-fork')
    assert.equal(x.viewHash(), y.viewHash())
  })

  test('a re-grant revoked below a later fork: that fork counts nowhere, whatever came first', () => {
    // W forks in e1 at 1, is granted again from (e2, 0), forks in e2 at 2, and is revoked at (e2, 1). x takes the e2
    // proof before the revoke, y after it (refused). A second pass that counted forks in re-grant windows ignored the
    // revoke that closed the window again: x counted the e2 fork, y could not (a review's probe).
    const { o, e2, a, fg, alt1, regrant } = regrantedAfterFork('regrant-revoked')
    const b2 = fg.chain(W, { epoch: e2, prev: (a[2] as Entry).id }, [put('e2/0'), put('e2/1'), put('e2/2'), put('e2/3')])
    const alt22 = fg.after(W, b2[1] as Entry, put('e2/2-alt'))
    o.t = fg.t
    o.revoke(O, W, { epoch: e2, seq: 1 })
    const now = fg.t + 100
    const ownerFeed = o.feedOf(O)
    const upToRegrant = ownerFeed.slice(0, ownerFeed.indexOf(regrant) + 1)
    const x = fresh(o.genesis); const y = fresh(o.genesis)
    for (const r of [x, y]) {
      r.ingestRun(upToRegrant.map(wire), 'peer', now)
      r.ingestRun(a.map(wire), 'peer', now)
      assert.equal(r.ingestRun([wire(alt1)], 'peer', now).fork?.seq, 1)
    }
    x.ingestRun(b2.map(wire), 'peer', now)
    const later = now + 2 * FORK_HOLD_MAX_MS
    x.ingestFork(wire(b2[2] as Entry), wire(alt22), later)
    x.commitHeldForks(later + FORK_HOLD_MAX_MS)
    x.ingestRun(ownerFeed.slice(upToRegrant.length).map(wire), 'peer', later + FORK_HOLD_MAX_MS)
    y.ingestRun(ownerFeed.slice(upToRegrant.length).map(wire), 'peer', now)
    y.ingestRun(b2.map(wire), 'peer', now)
    y.ingestFork(wire(b2[2] as Entry), wire(alt22), later)
    y.commitHeldForks(later + FORK_HOLD_MAX_MS)
    assert.equal(x.viewHash(), y.viewHash())
  })

  test('a second fork, in a later epoch, retracts the same on a node that never stored the earlier epoch\'s head', () => {
    const o = new Origin(O, 'fork-keep')
    o.grant(O, W, 'writer', { epoch: 0, seq: 0 })
    const e1 = o.epochOf(W)
    const a = [0, 1, 2, 3, 4, 5].map(i => o.append(W, put(`e1/${i}`)))
    const fg = new Forger(o.replica.id, o.t + 10)
    const alt3 = fg.after(W, a[2] as Entry, put('e1/3-alt'))
    const e2 = e1 + 1000
    const regrant = (() => { o.t = fg.t; return o.grant(O, W, 'writer', { epoch: e2, seq: 0 }) })()
    fg.t = o.t
    const b2 = fg.chain(W, { epoch: e2, prev: (a[5] as Entry).id }, [put('e2/0'), put('e2/1')]) // names e1's head, seq 5
    const alt21 = fg.after(W, b2[0] as Entry, put('e2/1-alt'))
    const now = fg.t + 100
    // early: stored all of e1 before learning of its fork; late: learned of it at seq 3, so never stored seqs 3-5.
    const early = fresh(o.genesis); const late = fresh(o.genesis)
    early.ingestRun(o.feedOf(O).slice(0, 1).map(wire), 'peer', now)
    early.ingestRun(a.map(wire), 'peer', now)
    early.ingestRun([wire(alt3)], 'peer', now)
    late.ingestRun(o.feedOf(O).slice(0, 1).map(wire), 'peer', now)
    late.ingestRun([...a.slice(0, 3), alt3].map(wire), 'peer', now)
    late.ingestFork(wire(a[3] as Entry), wire(alt3), now)
    for (const r of [early, late]) {
      r.ingestRun([wire(regrant)], 'peer', now)
      r.ingestRun(b2.map(wire), 'peer', now)
      // (A second proof of W's so soon after the first waits for W's hold: space/fork-holds.ts.)
      const second = r.ingestRun([wire(alt21)], 'peer', now)
      assert.ok((second.fork ?? second.forkHeld) !== undefined)
      r.commitHeldForks(now + FORK_HOLD_MAX_MS)
    }
    assert.deepEqual(['e1/0', 'e1/2', 'e2/0'].map(k => late.kvGet(k)?.value), ['e1/0', 'e1/2', 'e2/0'].map(k => early.kvGet(k)?.value))
    assert.equal(late.viewHash(), early.viewHash())
  })

  test('an admin\'s revoke at its fork position, in an epoch its earlier fork retracted, has no authority', () => {
    // Admin A forks in e1; admin A2 grants A writer from (e2, 0); A's e2 entry at seq 2 revokes A itself and is forked.
    // The revoke's authority once set every fork of A aside, so counting the e2 fork revived A's admin window, the
    // revoke counted and closed the writer window that covered the fork: no set of counted forks was stable, and the
    // e2 fork stayed uncut (a review's probe). Only the fork at the revoke's own position is set aside now.
    const o = new Origin(O, 'revoke-at-retracted-fork')
    o.grant(O, A, 'admin', { epoch: 0, seq: 0 })
    o.grant(O, A2, 'admin', { epoch: 0, seq: 0 })
    const e1 = o.epochOf(A)
    const a = [0, 1, 2].map(i => o.append(A, put(`e1/${i}`)))
    const fg = new Forger(o.replica.id, o.t + 10)
    const alt1 = fg.after(A, a[0] as Entry, put('e1/1-alt'))
    const e2 = e1 + 1000
    o.t = fg.t
    o.grant(A2, A, 'writer', { epoch: e2, seq: 0 })
    fg.t = o.t + 10
    const b = fg.chain(A, { epoch: e2, prev: (a[2] as Entry).id }, [put('e2/0'), put('e2/1'),
      { t: 'acl.revoke', member: A.publicKey, at: { epoch: e2, seq: 1 }, keep: [] }, put('e2/3')])
    const alt2 = fg.after(A, b[1] as Entry, put('e2/2-alt'))
    const now = fg.t + 100
    const e1First = fresh(o.genesis); const e2First = fresh(o.genesis)
    for (const r of [e1First, e2First]) {
      for (const kp of [O, A2]) r.ingestRun(o.feedOf(kp).map(wire), 'peer', now)
      r.ingestRun(a.map(wire), 'peer', now)
    }
    e1First.ingestFork(wire(a[1] as Entry), wire(alt1), now)
    e1First.ingestRun(b.map(wire), 'peer', now)
    e1First.ingestFork(wire(b[2] as Entry), wire(alt2), now)
    e2First.ingestRun(b.map(wire), 'peer', now)
    e2First.ingestFork(wire(b[2] as Entry), wire(alt2), now)
    e2First.ingestFork(wire(a[1] as Entry), wire(alt1), now)
    for (const r of [e1First, e2First]) {
      r.commitHeldForks(now + 2 * FORK_HOLD_MAX_MS)
      assert.equal(r.forkProofs().length, 2)
      assert.equal(r.acl.feedLimit(hex(A), e2), 2, 'the e2 fork cuts A\'s writer window')
      assert.equal(r.acl.currentRole(hex(A)), null)
      assert.deepEqual(['e1/0', 'e1/1', 'e2/0', 'e2/1', 'e2/2-alt'].map(k => r.kvGet(k)?.value),
        ['e1/0', undefined, 'e2/0', 'e2/1', undefined], 'the self-revoke at (e2, 1) does not count')
    }
    assert.equal(e1First.viewHash(), e2First.viewHash())
  })
})
