import { encodeMessage } from '../../src/codec/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { signEntry, SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { Wire } from './wire.ts'
import type { Peer } from './wire.ts'

/** Set-ups for the engine tests of a writer that forks its feed (pending-release, botched-signatures). */
export const replicaOf = (p: Peer): SpaceReplica => [...p.replicas.values()][0] as SpaceReplica

export function adopted (origin: SpaceReplica): MemoryStore {
  const s = new MemoryStore()
  SpaceReplica.adopt(s, [origin.genesis.bytes, origin.genesis.sig])
  return s
}

export const charged = (p: Peer): { peer: string, reason: string }[] =>
  p.events.flatMap(e => e.type === 'misbehaviour' ? [{ peer: e.peer, reason: e.reason }] : [])

export type Signed = ReturnType<typeof signEntry>
export const runOf = (space: Uint8Array, entries: readonly Signed[]): Uint8Array =>
  encodeMessage({ m: 'entries', space, run: entries.map(e => [e.bytes, e.sig]) })

/** A space whose owner granted writers (`names`), and writer W's first entry; `next` signs W's later ones. */
/** A space with a writer W that can fork its feed (`forkable`): `keys` are the owner's, W's, then `names`'. */
export interface Forkable {
  origin: SpaceReplica, store: MemoryStore, keys: KeyPair[], e0: Signed, next: (seq: number, prev: Uint8Array, v: string) => Signed
}

export function forkable (seed: string, names: readonly string[]): Forkable {
  const [o, w, ...rest] = ['owner', 'w', ...names].map(n => seededKey(seed, n)) as [KeyPair, KeyPair, ...KeyPair[]]
  const store = new MemoryStore()
  const origin = SpaceReplica.create(store, o, seed, T0)
  for (const [i, k] of [w, ...rest].entries()) origin.append(o, { t: 'acl.grant', member: k.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, T0 + 1 + i)
  const e0 = origin.append(w, { t: 'kv.put', key: 'k', value: 'e0' }, T0 + 5)
  const next = (seq: number, prev: Uint8Array, v: string): Signed =>
    signEntry(w, { space: origin.id, author: w.publicKey, epoch: e0.epoch, seq, prev, clock: { wallMs: T0 + 5 + seq, counter: 0 }, body: { t: 'kv.put', key: 'k', value: v } })
  return { origin, store, keys: [o, w, ...rest], e0, next }
}

/** The owner O and members A and M of `origin` on a wire, each linked to the other two. */
export function triangle (origin: SpaceReplica, store: MemoryStore, [o, a, m]: readonly KeyPair[]): { wire: Wire, O: Peer, A: Peer, M: Peer } {
  const wire = new Wire(T0 + 10)
  const O = wire.add(o as KeyPair, store)
  const A = wire.add(a as KeyPair, adopted(origin))
  const M = wire.add(m as KeyPair, adopted(origin))
  wire.connect(O, A)
  wire.connect(O, M)
  wire.connect(M, A)
  return { wire, O, A, M }
}

/**
 * A triangle of the owner O and members A and M (`triangle`), member P linked to M, and the writer W linked to A:
 * `f.keys` are [o, w, a, m, p], as `forkable(seed, ['a', 'm', 'p'])` makes them.
 */
export function forkerAtA (f: Forkable): { wire: Wire, O: Peer, A: Peer, M: Peer, P: Peer, W: Peer } {
  const [o, w, a, m, p] = f.keys as [KeyPair, KeyPair, KeyPair, KeyPair, KeyPair]
  const { wire, A, O, M } = triangle(f.origin, f.store, [o, a, m])
  const P = wire.add(p, adopted(f.origin))
  wire.connect(M, P)
  const W = wire.add(w, adopted(f.origin))
  wire.connect(W, A)
  return { wire, O, A, M, P, W }
}

/** A signature the author botched (or a relay garbled): one bit flipped. */
export const garbled = (sig: Uint8Array): Uint8Array => {
  const g = new Uint8Array(sig)
  g[0] = (g[0] as number) ^ 1
  return g
}

/** Time passes, every engine's timers run: probes, their asks again, refinements. */
export function settle (wire: Wire, rounds = 40): void {
  for (let i = 0; i < rounds; i++) wire.advance(2_500)
}

/** The two branches of writer W's feed after e0, x1..xN and y1..yN (`forkable`'s `next`). */
export function branches (e0: Signed, next: (seq: number, prev: Uint8Array, v: string) => Signed, n: number): { xs: Signed[], ys: Signed[] } {
  const xs: Signed[] = [e0]
  const ys: Signed[] = [e0]
  for (let i = 1; i <= n; i++) {
    xs.push(next(i, (xs[i - 1] as Signed).id, `x${i}`))
    ys.push(next(i, (ys[i - 1] as Signed).id, `y${i}`))
  }
  return { xs, ys }
}

/**
 * W's feed: c1..c(common-1) shared after e0, then two branches x/y from seq `common` to `top` (inclusive); each value
 * ends with `pad` (big entries: a server's answer takes several runs).
 */
export function forkedAt (f: Forkable, common: number, top: number, pad = ''): { xs: Signed[], ys: Signed[] } {
  const xs: Signed[] = [f.e0]
  const ys: Signed[] = [f.e0]
  for (let i = 1; i <= top; i++) {
    const shared = i < common ? f.next(i, (xs[i - 1] as Signed).id, `c${i}${pad}`) : undefined
    xs.push(shared ?? f.next(i, (xs[i - 1] as Signed).id, `x${i}${pad}`))
    ys.push(shared ?? f.next(i, (ys[i - 1] as Signed).id, `y${i}${pad}`))
  }
  return { xs, ys }
}

/** Links a and b anew: a fresh session at each end, and its hello exchange. */
export function relink (wire: Wire, a: Peer, b: Peer): void {
  a.engine.disconnect(b.name, wire.nowMs)
  b.engine.disconnect(a.name, wire.nowMs)
  wire.connect(a, b)
}

