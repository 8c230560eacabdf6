/**
 * Convergence under a forked writer, as a property (decision 7; from the hostile reviews' storm probe). W's feed
 * forks into two or three branches: apart at seq 1, 30 or 100, a third leaving the first at the same seq or 5–10
 * later. Three to six honest nodes each hold one branch, some only a prefix of it, some a high proof before most of
 * it, some with W's signature at the first difference botched (inside a run a later signature covers, relayed as it
 * came). They link as a line, ring, star or mesh, in a shuffled order, one of them later than the rest.
 *
 * Every node must end with the proof at the lowest seq where two different entries with valid signatures are held
 * somewhere (where a proof can be made), nobody charged, and no message once settled; and with the same views when
 * that is the branches' first difference (above it, each holder keeps its own entry there: nothing proves it).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { KeyPair } from '../../src/identity/index.ts'
import { authorKeyOf, entryIdOf } from '../../src/ids/index.ts'
import { signEntry } from '../../src/space/index.ts'
import { T0 } from '../helpers/fixtures.ts'
import { adopted, charged, forkable, garbled, replicaOf } from './forked-writer.ts'
import type { Signed } from './forked-writer.ts'
import { Wire } from './wire.ts'
import type { Peer } from './wire.ts'

const CONFIGURATIONS = 100

const topologies: Record<string, (n: number) => Array<[number, number]>> = {
  line: n => Array.from({ length: n - 1 }, (_, i) => [i, i + 1]),
  ring: n => Array.from({ length: n }, (_, i) => [i, (i + 1) % n]),
  star: n => Array.from({ length: n - 1 }, (_, i) => [0, i + 1]),
  mesh: n => Array.from({ length: n }, (_, i) =>
    Array.from({ length: n - i - 1 }, (_, j) => [i, i + j + 1] as [number, number])).flat()
}

/** A linear congruential generator: the same configurations on every machine. */
function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32 }
}

/** One random configuration, run to rest; what went wrong with it, or an empty list. */
function storm (cfg: number, rand: () => number): string[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T
  const common = pick([1, 30, 100])
  const nodes = pick([3, 4, 5, 6])
  const topology = pick(Object.keys(topologies))
  const botching = pick(['none', 'none', 'odd', 'one'])
  const branchCount = pick([2, 3])
  const third = common + pick([0, 5, 10])
  const late = rand() < 0.4 ? 1 + Math.floor(rand() * (nodes - 1)) : -1
  const partial = rand() < 0.4 ? 1 + Math.floor(rand() * (nodes - 1)) : -1
  const proofFirst = rand() < 0.3 ? 1 + Math.floor(rand() * (nodes - 1)) : -1
  const f = forkable(`fork-storm-${cfg}`, ['n1', 'n2', 'n3', 'n4', 'n5'])
  const [o, w, ...ns] = f.keys as KeyPair[]
  const next = (seq: number, prev: Uint8Array, v: string): Signed => signEntry(w as KeyPair, {
    space: f.origin.id, author: (w as KeyPair).publicKey, epoch: f.e0.epoch, seq, prev,
    clock: { wallMs: T0 + 100 + seq, counter: 0 }, body: { t: 'kv.put', key: 'k', value: v }
  })
  const top = common + 80
  const branches: Signed[][] = [[f.e0], [f.e0], [f.e0]]
  const [b0, b1, b2] = branches as [Signed[], Signed[], Signed[]]
  for (let i = 1; i <= top; i++) {
    const c0 = next(i, (b0[i - 1] as Signed).id, i < common ? `c${i}` : `b0-${i}`)
    b1.push(i < common ? c0 : next(i, (b1[i - 1] as Signed).id, `b1-${i}`))
    b2.push(i < third ? c0 : next(i, (b2[i - 1] as Signed).id, `b2-${i}`))
    b0.push(c0)
  }
  const wire = new Wire(T0 + 10)
  const peers: Peer[] = [wire.add(o as KeyPair, f.store)]
  // Where two different entries with valid signatures are held somewhere: the lowest is where the proof belongs.
  const valid = new Map<number, Set<string>>()
  const holdsValid = (e: Signed): void => {
    const ids = valid.get(e.seq) ?? new Set<string>()
    valid.set(e.seq, ids.add(entryIdOf(e.id)))
  }
  const ok = authorKeyOf((o as KeyPair).publicKey)
  for (let k = 1; k < nodes; k++) {
    const p = wire.add(ns[k - 1] as KeyPair, adopted(f.origin))
    const r = replicaOf(p)
    for (const row of f.origin.vector()) {
      if (authorKeyOf(row.author) === ok) r.ingestRun(f.origin.serve(ok, row.epoch, 0, row.count), 'O', wire.nowMs)
    }
    const branch = branches[(k - 1) % branchCount] as Signed[]
    let len = top - Math.floor(rand() * 30)
    if (k === partial) len = Math.floor(rand() * (common + 10))
    if (k === proofFirst) len = Math.min(len, Math.floor(rand() * common))
    const botched = ((botching === 'odd' && k % 2 === 1) || (botching === 'one' && k === 1)) && len > common
    const sig = (e: Signed): Uint8Array => botched && e.seq === common ? garbled(e.sig) : e.sig
    const run = branch.slice(0, len + 1).map(e => [e.bytes, sig(e)] as const)
    assert.equal(r.ingestRun(run, 'W', wire.nowMs).stored.length, len + 1)
    for (const e of branch.slice(0, len + 1)) if (!(botched && e.seq === common)) holdsValid(e)
    if (k === proofFirst) {
      const [x, y] = [b0[top - 3], b1[top - 3]] as [Signed, Signed]
      r.ingestFork([x.bytes, x.sig], [y.bytes, y.sig], wire.nowMs)
      holdsValid(x)
      holdsValid(y)
    }
    peers.push(p)
  }
  const oracle = Math.min(...[...valid].filter(([, ids]) => ids.size > 1).map(([seq]) => seq))
  const order = topologies[topology]?.(nodes).map(link => ({ link, key: rand() })).sort((a, b) => a.key - b.key) ?? []
  const links = order.map(({ link }) => link)
  for (const [i, j] of links.filter(l => !l.includes(late))) wire.connect(peers[i] as Peer, peers[j] as Peer)
  for (let round = 0; round < 20; round++) wire.advance(2_500)
  for (const [i, j] of links.filter(l => l.includes(late))) wire.connect(peers[i] as Peer, peers[j] as Peer)
  for (let round = 0; round < 40; round++) wire.advance(2_500)
  const settled = wire.sent.length
  for (let round = 0; round < 20; round++) wire.advance(2_500)
  const proofs = peers.map(p => replicaOf(p).forkProofs().map(x => x.seq).join(',') || '-')
  const views = peers.map(p => replicaOf(p).kvGet('k')?.value ?? '-')
  const what = `#${cfg} (common ${common}, third ${third}, ${nodes} nodes, ${topology}, botched ${botching}, ` +
    `oracle ${oracle})`
  return [
    ...proofs.some(s => s !== String(oracle === Infinity ? '-' : oracle)) ? [`${what}: proofs ${proofs}`] : [],
    // Views may differ only where no proof can be made as low as the branches' first difference.
    ...new Set(views).size > 1 && oracle <= common ? [`${what}: views ${views}`] : [],
    ...peers.flatMap(p => charged(p).map(c => `${what}: ${p.name} charged ${c.peer}: ${c.reason}`)),
    ...wire.sent.length > settled ? [`${what}: ${wire.sent.length - settled} messages once settled`] : []
  ]
}

describe('decision 7: a forked writer, botched relays, any topology and order', () => {
  test(`${CONFIGURATIONS} random configurations: one proof where it belongs, one view, nobody charged, quiet`, () => {
    const rand = rng(7)
    const wrong: string[] = []
    for (let cfg = 0; cfg < CONFIGURATIONS; cfg++) wrong.push(...storm(cfg, rand))
    assert.deepEqual(wrong, [])
  })
})
