/**
 * The ACL over forks as a property (decisions 4 and 7): one set of entries and fork proofs, delivered in different
 * orders, ends in one view. Random grants, re-grants and revokes of a writer M, by an admin-or-writer A and by the
 * owner; forks of A and of M in 2–3 epochs each; everything delivered one entry or proof at a time in three orders,
 * twice over, with held proofs committed at random moments.
 *
 * A node refuses a proof its ACL does not cover yet and holds entries it cannot judge yet pending. The sync layer
 * keeps such a proof, per link, and offers it again when the ACL changes (sync/core.ts `takeFork`), and retries pending
 * entries every PENDING_RETRY_MS (the engine's tick); `Delivery` does both, as a node would. Without them a node keeps
 * a view no other node has: 17 of 300 seeds ended apart.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { FORK_HOLD_MAX_MS } from '../../src/space/index.ts'
import type { SpaceReplica } from '../../src/space/index.ts'
import { PENDING_RETRY_MS } from '../../src/sync/constants.ts'
import type { Body, Entry, SignedBytes } from '../../src/codec/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { seededKey } from '../helpers/fixtures.ts'
import { Forger, Origin, fresh, wire } from './scenario.ts'

const K = (name: string): KeyPair => seededKey('acl-orders', name)
const O = K('owner'); const A = K('a'); const M = K('m')
const SEEDS = 150

type Item =
  | { readonly kind: 'entry', readonly e: Entry }
  | { readonly kind: 'fork', readonly a: Entry, readonly b: Entry }

/** A linear congruential generator: the same scenario and orders from one seed on every machine. */
function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32 }
}

/**
 * A's and M's feeds (three entries an epoch, a fork in an epoch at seq 1 or 2 with probability 0.6; A's entries grant
 * or revoke M with probability 0.4), then the owner's grants and revokes of both. `asTheApiDoes`: the owner's grants
 * from (0, 0) and revokes that keep the earlier epochs, as the node's commands write them; otherwise grants from a
 * later epoch and revokes that keep none.
 */
function scenario (seed: number, asTheApiDoes: boolean): { genesis: SignedBytes, items: Item[], t: number } {
  const r = rng(seed)
  const o = new Origin(O, `acl-orders-${seed}`)
  const roleA = r() < 0.7 ? 'admin' : 'writer'
  o.grant(O, A, roleA, { epoch: 0, seq: 0 })
  o.grant(O, M, 'writer', { epoch: 0, seq: 0 })
  const epochs = 2 + Math.floor(r() * 2)
  const epochOf = { A: o.epochOf(A), M: o.epochOf(M) }
  const ep = (who: 'A' | 'M', k: number): number => epochOf[who] + 1000 * k
  const fg = new Forger(o.replica.id, o.t + 10)
  const items: Item[] = []
  const bodyOf = (who: 'A' | 'M', tag: string): Body => {
    if (who === 'A' && r() < 0.4) {
      const k = Math.floor(r() * epochs)
      return r() < 0.7
        ? { t: 'acl.grant', member: M.publicKey, role: 'writer', from: { epoch: ep('M', k), seq: 0 } }
        : { t: 'acl.revoke', member: M.publicKey, at: { epoch: ep('M', k), seq: 1 + Math.floor(r() * 2) }, keep: [] }
    }
    return { t: 'kv.put', key: tag, value: tag }
  }
  const ownerSays: Array<() => void> = []
  for (const who of ['A', 'M'] as const) {
    const kp = who === 'A' ? A : M
    const role = who === 'A' ? roleA : 'writer'
    let prev: Uint8Array | null = null
    for (let k = 0; k < epochs; k++) {
      const chain = fg.chain(kp, { epoch: ep(who, k), prev }, [0, 1, 2].map(i => bodyOf(who, `${who}${k}/${i}`)))
      prev = (chain[2] as Entry).id
      for (const e of chain) items.push({ kind: 'entry', e })
      if (r() < 0.6) {
        const seq = 1 + Math.floor(r() * 2)
        const alt = fg.after(kp, chain[seq - 1] as Entry, bodyOf(who, `${who}${k}/${seq}-alt`))
        items.push({ kind: 'fork', a: chain[seq] as Entry, b: alt })
      }
      const at = { epoch: ep(who, k), seq: 1 + Math.floor(r() * (asTheApiDoes ? 3 : 2)) }
      const keep = asTheApiDoes ? [...Array(k).keys()].map(j => ep(who, j)) : []
      if (k > 0 && r() < (asTheApiDoes ? 0.3 : 0.5)) {
        const from = asTheApiDoes ? { epoch: 0, seq: 0 } : { epoch: ep(who, k), seq: 0 }
        ownerSays.push(() => o.grant(O, kp, role, from))
      }
      if (r() < 0.25) ownerSays.push(() => o.revoke(O, kp, at, keep))
    }
  }
  o.t = fg.t
  for (const say of ownerSays) say()
  for (const e of o.feedOf(O)) items.push({ kind: 'entry', e })
  return { genesis: o.genesis, items, t: Math.max(o.t, fg.t) + 1000 }
}

/** One node taking items from a peer, with the sync layer's retries (see the file comment). */
class Delivery {
  readonly node: SpaceReplica
  now: number
  #kept: Item[] = []
  #retried: number

  constructor (genesis: SignedBytes, now: number) {
    this.node = fresh(genesis)
    this.now = now
    this.#retried = now
  }

  take (it: Item): void {
    if (it.kind === 'entry') this.#after(this.node.ingestRun([wire(it.e)], 'peer', this.now).aclChanged)
    else this.#after(this.#offer(it))
  }

  /** The engine's tick: held proofs whose hold is over are committed; pending entries retried once a period. */
  tick (): void {
    this.#after(this.node.commitHeldForks(this.now).some(res => res.aclChanged))
    if (this.now - this.#retried < PENDING_RETRY_MS) return
    this.#retried = this.now
    this.#after(this.node.retryPending(this.now).some(res => res.aclChanged))
  }

  #offer (it: Item & { kind: 'fork' }): boolean {
    const res = this.node.ingestFork(wire(it.a), wire(it.b), this.now)
    if (res.reject?.reason === 'ungranted-fork') this.#kept.push(it)
    return res.aclChanged
  }

  /** The ACL changed: the proofs kept are offered again, until they change nothing. */
  #after (aclChanged: boolean): void {
    for (let changed = aclChanged; changed && this.#kept.length > 0;) {
      const again = this.#kept
      this.#kept = []
      changed = false
      for (const it of again) changed = this.#offer(it as Item & { kind: 'fork' }) || changed
    }
  }
}

function viewsInThreeOrders (seed: number, asTheApiDoes: boolean): string[] {
  const { genesis, items, t } = scenario(seed, asTheApiDoes)
  const r = rng(seed ^ 0x5eed)
  return [0, 1, 2].map(() => {
    const order = items.map(it => ({ it, k: r() })).sort((p, q) => p.k - q.k).map(p => p.it)
    const d = new Delivery(genesis, t)
    for (let pass = 0; pass < 2; pass++) {
      for (const it of order) {
        d.now += Math.floor(r() * 3000)
        d.take(it)
        if (r() < 0.3) d.tick()
      }
      d.now += 10 * FORK_HOLD_MAX_MS
      d.tick()
    }
    return d.node.viewHash()
  })
}

describe('decisions 4 and 7: grants, revokes and forks in any order give one view', () => {
  for (const asTheApiDoes of [true, false]) {
    const owner = asTheApiDoes ? 'owner entries as the API writes them' : 'free owner entries'
    test(`${SEEDS} random spaces, three orders each (${owner})`, () => {
      const apart = []
      for (let seed = 1; seed <= SEEDS; seed++) {
        if (new Set(viewsInThreeOrders(seed, asTheApiDoes)).size > 1) apart.push(seed)
      }
      assert.deepEqual(apart, [])
    })
  }
})
