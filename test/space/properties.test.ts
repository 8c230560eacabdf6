/**
 * Properties of space/ (design decisions 2-9): whatever order and
 * duplication entries arrive in, a replica's views are those of the origin;
 * no invalid entry ever reaches a view; a fork freezes its feed the same way
 * whichever branch arrived first.
 *
 * Every entry is signed once, when this module loads; a property only
 * permutes, duplicates and splits deliveries. Replay a failure with the
 * printed FC_SEED=<seed>.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { signEntry, signJoinProof } from '../../src/space/index.ts'
import type { SpaceReplica } from '../../src/space/index.ts'
import { bytesEqual, decodeEntry, sha256, toHex } from '../../src/codec/index.ts'
import type { Body, Entry, SignedBytes } from '../../src/codec/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import {
  Forger, Origin, checkProperty, deliver, fresh, hex, rebuiltViewHash, markerCounter, markerLedger, markerPut, permute, splitRuns,
  replaceAscii, visibleMarkers, wire, MARKER, T_DELIVER_OFFSET
} from './scenario.ts'
import type { Delivery } from './scenario.ts'
import { buildFork, DATA_VIEWS, FORK_KEYS } from './fork-case.ts'
import type { ForkCase } from './fork-case.ts'
import { authorKeyOf, entryIdOf } from '../../src/ids/index.ts'

const NUM_RUNS = Number(process.env.SPACE_PROPERTY_RUNS ?? 100)
const TIME_LIMIT_MS = Number(process.env.SPACE_PROPERTY_MS ?? 10_000)
const fcOptions = (seed: number): fc.Parameters<unknown> => ({ seed, numRuns: NUM_RUNS, plugins: [fc.interruptAfterTimeLimit(TIME_LIMIT_MS)] })

// ------------------------------------------------------------------ the honest scenario

const key = (name: string) => seededKey('space-properties', name)
const O = key('owner'); const A = key('admin'); const W1 = key('w1'); const W2 = key('w2')
const J = key('joiner'); const J3 = key('joiner-of-owner'); const R = key('reader')
const invW = key('invite-w'); const invR = key('invite-r'); const invO = key('invite-o'); const G2 = key('granted-by-demoted'); const S2 = key('granted-by-fake-admin')

/**
 * Owner O; admin A (granted by O from its own epoch); writers W1 (granted by
 * A), W2 (granted by O, revoked at seq 3 of its feed after writing 5
 * entries), J (invite by A, uses 1) and J3 (invite by O); reader R (invite by
 * A, uses 2); A demoted to writer at the end (revoke + grant from the same
 * position), after which its grant to G2 is ineffective. A also tries to
 * grant admin to J3 (an admin cannot). Everyone writes on overlapping keys.
 */
function buildHonest (): { o: Origin, eW2: number, cutW2: number, eA: number, invRe: Entry, invWe: Entry } {
  const o = new Origin(O, 'properties')
  o.append(O, { t: 'kv.put', key: 'k/a', value: 'o1' })
  o.append(O, { t: 'counter.add', name: 'c', delta: 5 })
  const eA = o.epochOf(A)
  o.grant(O, A, 'admin', { epoch: eA, seq: 0 })
  o.append(A, { t: 'kv.put', key: 'k/b', value: 'a1' })
  o.grant(A, W1, 'writer', { epoch: 0, seq: 0 })
  const invWe = o.invite(A, invW, 'writer', 1)
  const invRe = o.invite(A, invR, 'reader', 2)
  const eW2 = o.epochOf(W2)
  o.grant(O, W2, 'writer', { epoch: 0, seq: 0 })
  const invOe = o.invite(O, invO, 'writer', 1)
  o.append(W1, { t: 'kv.put', key: 'k/a', value: 'w1-1' })
  o.append(W1, { t: 'counter.add', name: 'c', delta: -2 })
  o.append(W1, { t: 'ledger.append', tx: { by: 'w1', n: 1 } })
  o.join(J, invWe, invW)
  o.join(R, invRe, invR)
  o.join(J3, invOe, invO)
  o.grant(A, J3, 'admin', { epoch: 0, seq: 0 }) // an admin cannot grant admin: no effect
  o.append(W2, { t: 'kv.put', key: 'k/c', value: 'w2' })
  o.append(W2, { t: 'counter.add', name: 'c', delta: 3 })
  o.append(W2, { t: 'ledger.append', tx: { by: 'w2' } })
  o.append(W2, markerPut('w2-post-cut-3')) // seq 3: the revoke below cuts here
  o.append(W2, markerCounter('w2-post-cut-4'))
  o.append(J, { t: 'kv.put', key: 'k/b', value: 'j' })
  o.append(J, { t: 'ledger.append', tx: { by: 'j' } })
  o.append(J, { t: 'counter.add', name: 'c', delta: -1 })
  // Files: f/a edited in turn by W1 then J, then deleted by O; f/b edited at once by W1 and J3 (a conflict).
  const fa1 = o.append(W1, fileVersion('f/a', 'v1', [], 10))
  const fa2 = o.append(J, fileVersion('f/a', 'v2', [fa1.id], 20))
  o.append(W1, fileVersion('f/b', 'from w1', [], 30))
  o.append(J3, fileVersion('f/b', 'from j3', [], 40))
  o.append(W1, { t: 'kv.del', key: 'k/a' })
  const cutW2 = 3
  o.revoke(O, W2, { epoch: eW2, seq: cutW2 })
  o.append(J3, { t: 'kv.put', key: 'k/c', value: 'j3' })
  o.append(W1, { t: 'kv.put', key: 'k/c', value: 'w1' })
  o.append(W1, { t: 'ledger.append', tx: { by: 'w1', n: 2 } })
  // Demotion of A: revoke at its next position, grant writer from that same position.
  const nA = o.feedOf(A).length
  o.revoke(O, A, { epoch: eA, seq: nA })
  o.grant(O, A, 'writer', { epoch: eA, seq: nA })
  o.append(A, { t: 'kv.put', key: 'k/a', value: 'a-as-writer' })
  o.grant(A, G2, 'writer', { epoch: 0, seq: 0 }) // stored (A still writes), not effective
  o.append(A, { t: 'counter.add', name: 'c', delta: 4 })
  o.append(O, { t: 'kv.put', key: 'k/b', value: 'o2' })
  o.append(O, { t: 'kv.del', key: 'k/c' })
  o.append(O, { t: 'ledger.append', tx: { by: 'o' } })
  o.append(O, { t: 'file', path: 'f/a', size: 0, mode: 0o644, mtimeMs: T0 + 50, deleted: true, supersedes: [fa2.id], chunks: [] })
  o.append(J, { t: 'kv.put', key: 'k/a', value: 'j2' })
  return { o, eW2, cutW2, eA, invRe, invWe }
}

/** A file version whose one chunk is named after its content. */
function fileVersion (path: string, content: string, supersedes: Uint8Array[], mtimeOffsetMs: number): Body {
  return { t: 'file', path, size: content.length, mode: 0o644, mtimeMs: T0 + mtimeOffsetMs, deleted: false, supersedes, chunks: [[sha256(new TextEncoder().encode(content)), content.length]] }
}

const honest = buildHonest()
const origin = honest.o.replica
const ORIGIN_HASH = origin.viewHash()
const ORIGIN_ACL = origin.aclList()
const NOW = honest.o.t + T_DELIVER_OFFSET
/** Honest feeds, each a hash-linked chain. */
const honestChains: Entry[][] = [...honest.o.feeds.values()]
const honestEntries = honestChains.flat()
const COUNTERS = [...['w2-post-cut-4', 'reader', 'stranger', 'self-admin', 'fork-a4'].map(n => `${MARKER}${n}`)]

test('the origin scenario itself: expected roles and views, rebuild agrees', () => {
  assert.equal(rebuiltViewHash(origin), ORIGIN_HASH)
  const roles = new Map(ORIGIN_ACL.map(r => [r.member, r.role]))
  assert.equal(roles.get(hex(O)), 'owner')
  assert.equal(roles.get(hex(A)), 'writer') // demoted
  assert.equal(roles.get(hex(W1)), 'writer')
  assert.equal(roles.get(hex(W2)), null) // revoked
  const fa = origin.fileGet('f/a')
  assert.ok(fa?.current.deleted === true && fa.conflicts.length === 0, 'f/a: the delete superseded both edits')
  const fb = origin.fileGet('f/b')
  assert.equal(fb?.current.author, hex(J3), 'f/b: the newer mtime wins')
  assert.equal(fb?.conflicts.length, 1, 'f/b: the other edit is a conflict, kept')
  assert.deepEqual(origin.filesList().map(f => f.path), ['f/a', 'f/b'])
  assert.equal(roles.get(hex(J)), 'writer')
  assert.equal(roles.get(hex(J3)), 'writer') // A's admin grant did nothing
  assert.equal(roles.get(hex(R)), 'reader')
  assert.equal(roles.has(hex(G2)), false)
  assert.deepEqual(visibleMarkers(origin, COUNTERS), [])
  assert.deepEqual(origin.kvGet('k/a'), { value: 'j2', author: hex(J) })
  assert.deepEqual(origin.kvGet('k/b'), { value: 'o2', author: hex(O) })
  assert.equal(origin.kvGet('k/c'), undefined)
  assert.equal(origin.counterGet('c'), 5 - 2 + 3 - 1 + 4)
  assert.equal(origin.ledgerList().length, 5)
})

// ------------------------------------------------------------------ delivery plans

/**
 * Plans are made of indices into a pool of wire entries (so a counterexample
 * prints as numbers); `toDeliveries` turns one into runs.
 */
interface Plan { readonly runs: readonly (readonly number[])[], readonly peers: readonly string[] }

function toDeliveries (pool: readonly SignedBytes[], plan: Plan): Delivery[] {
  return plan.runs.map((run, k) => ({ run: run.map(i => pool[i] as SignedBytes), from: plan.peers[k] ?? 'peer-0' }))
}

const peersArb = (n: number): fc.Arbitrary<string[]> => fc.array(fc.nat(3), { minLength: n, maxLength: n }).map(a => a.map(p => `peer-${p}`))

/** Every pool entry once as a single-entry run, in any order, plus duplicates, from varying peers. */
const singleEntryPlan = (poolSize: number, maxDups: number): fc.Arbitrary<Plan> =>
  fc.tuple(
    fc.array(fc.nat(), { minLength: poolSize, maxLength: poolSize }),
    fc.array(fc.record({ i: fc.nat(), at: fc.nat() }), { maxLength: maxDups }),
    peersArb(poolSize + maxDups)
  ).map(([keys, dups, peers]) => ({ runs: permute([...Array(poolSize).keys()], keys, dups).map(i => [i]), peers }))

/**
 * Contiguous runs of each chain (a partition, plus overlapping windows as
 * duplicates), and each loose run as it is, in any order. Chains and loose
 * runs are lists of pool indices.
 */
const runPlan = (chains: readonly (readonly number[])[], loose: readonly (readonly number[])[], maxExtra: number): fc.Arbitrary<Plan> => {
  const total = chains.reduce((n, c) => n + c.length, 0)
  const count = total + maxExtra + loose.length
  return fc.tuple(
    fc.array(fc.boolean(), { minLength: total, maxLength: total }),
    fc.array(fc.record({ chain: fc.nat(), from: fc.nat(), len: fc.integer({ min: 1, max: 6 }) }), { maxLength: maxExtra }),
    fc.array(fc.nat(), { minLength: count, maxLength: count }),
    peersArb(count)
  ).map(([cuts, extra, keys, peers]) => {
    const runs: number[][] = splitRuns(chains, cuts)
    for (const x of extra) {
      const chain = chains[x.chain % chains.length] as readonly number[]
      const from = x.from % chain.length
      runs.push(chain.slice(from, from + x.len))
    }
    for (const l of loose) runs.push([...l])
    return { runs: permute(runs, keys), peers }
  })
}

/** Pool indices of chains laid out one after the other. */
function chainIndices (chains: readonly (readonly unknown[])[], offset = 0): number[][] {
  let next = offset
  return chains.map(c => c.map(() => next++))
}

function assertConverged (r: SpaceReplica, expected: string): void {
  assert.equal(r.viewHash(), expected, 'views differ from the origin')
  assert.equal(rebuiltViewHash(r), expected, 'views differ from a rebuild of what is stored')
}

// ------------------------------------------------------------------ 1. convergence

test('convergence: any permutation of single-entry runs, with duplicates, gives the origin views', async () => {
  const pool = honestEntries.map(wire)
  await checkProperty('convergence/single', seed => fc.assert(fc.property(singleEntryPlan(pool.length, 15), plan => {
    const r = fresh(honest.o.genesis)
    const results = deliver(r, toDeliveries(pool, plan), NOW)
    for (const res of results) assert.equal(res.reject, undefined, `an honest entry was rejected: ${JSON.stringify(res.reject)}`)
    assertConverged(r, ORIGIN_HASH)
    assert.deepEqual(r.aclList(), ORIGIN_ACL)
  }), fcOptions(seed)))
})

test('convergence: any order of contiguous runs of each feed, overlapping, gives the origin views', async () => {
  const pool = honestChains.flat().map(wire)
  await checkProperty('convergence/runs', seed => fc.assert(fc.property(runPlan(chainIndices(honestChains), [], 10), plan => {
    const r = fresh(honest.o.genesis)
    const results = deliver(r, toDeliveries(pool, plan), NOW)
    for (const res of results) assert.equal(res.reject, undefined, `an honest run was rejected: ${JSON.stringify(res.reject)}`)
    assertConverged(r, ORIGIN_HASH)
  }), fcOptions(seed)))
})

// ------------------------------------------------------------------ 2. no invalid entry reaches a view

const forger = new Forger(origin.id, honest.o.t)
const X = key('stranger'); const S = key('granted-by-writer'); const Y = key('joined-writers-invite'); const invX = key('invite-x')
const Z = key('bad-proof'); const Z2 = key('replayed-proof')
const lastOf = (kp: typeof O): Entry => { const f = honest.o.feedOf(kp); return f[f.length - 1] as Entry }

/**
 * What each forgery meets when its chain arrives as one run after every honest
 * entry: `stored` (authentic and covered, so kept as evidence, but never
 * effective), `pending` (its feed is not covered), or a reject reason.
 */
type Outcome = 'stored' | 'pending' | 'bad-join-proof' | 'bad-signature' | 'malformed'
/** Authentic forged entries that continue an honest feed (keyed by that feed's last honest entry). */
const continuations = new Map<Entry, Entry[]>()
const forgedChains: Entry[][] = []
/** Single entries that are invalid on their own, and runs that end at a bad signature. */
const loose: SignedBytes[] = []
const badRuns: SignedBytes[][] = []
const expected = new Map<Entry[] | SignedBytes | SignedBytes[], Outcome[]>()
{
  // A writer grants itself admin, then "as admin" grants S and issues an invite that Y uses.
  const w1 = forger.chain(W1, lastOf(W1), [
    { t: 'acl.grant', member: W1.publicKey, role: 'admin', from: { epoch: 0, seq: 0 } },
    { t: 'acl.grant', member: S.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } },
    { t: 'invite', key: invX.publicKey, role: 'writer', uses: 5, expiresMs: NOW + 1e9 }
  ])
  const cont = (last: Entry, chain: Entry[], outcome: Outcome[]): void => { continuations.set(last, chain); expected.set(chain, outcome) }
  const chain = (c: Entry[], outcome: Outcome[]): void => { forgedChains.push(c); expected.set(c, outcome) }
  const single = (e: SignedBytes, outcome: Outcome): void => { loose.push(e); expected.set(e, [outcome]) }
  cont(lastOf(W1), w1, ['stored', 'stored', 'stored'])
  chain(forger.chain(S, { epoch: NOW }, [markerPut('self-admin'), markerCounter('self-admin')]), ['pending', 'pending'])
  const inviteX = w1[2] as Entry
  chain(forger.chain(Y, { epoch: NOW }, [
    { t: 'join', invite: inviteX.id, proof: signJoinProofFor(invX, Y) }, markerPut('writer-invite')
  ]), ['stored', 'pending'])
  // A reader writes data.
  cont(lastOf(R), forger.chain(R, lastOf(R), [markerPut('reader'), markerCounter('reader'), markerLedger('reader')]), ['stored', 'stored', 'stored'])
  // The revoked writer goes on after its cut, in a new higher epoch, and backdates into a lower epoch not in `keep`.
  cont(lastOf(W2), forger.chain(W2, lastOf(W2), [markerPut('w2-after-cut'), markerLedger('w2-after-cut')]), ['pending', 'pending'])
  chain(forger.chain(W2, { epoch: honest.eW2 + 1_000, prev: lastOf(W2).id }, [markerPut('w2-new-epoch')]), ['pending'])
  chain(forger.chain(W2, { epoch: honest.eW2 - 1 }, [markerPut('w2-backdate')]), ['pending'])
  // J3 was "granted admin" by an admin: it tries to act as one.
  cont(lastOf(J3), forger.chain(J3, lastOf(J3), [{ t: 'acl.grant', member: S2.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }]), ['stored'])
  chain(forger.chain(S2, { epoch: NOW }, [markerPut('admin-granted-admin')]), ['pending'])
  // The grant of the demoted admin gives nothing.
  chain(forger.chain(G2, { epoch: NOW }, [markerPut('demoted-grant')]), ['pending'])
  // A non-member signs with its own key.
  chain(forger.chain(X, { epoch: NOW }, [markerPut('stranger'), markerCounter('stranger')]), ['pending', 'pending'])
  // Joins with a bad proof: countersigned by another invite's key; a proof made for another joiner.
  chain(forger.chain(Z, { epoch: NOW }, [
    { t: 'join', invite: honest.invRe.id, proof: signJoinProofFor(invW, Z) }, markerPut('bad-join-proof')
  ]), ['bad-join-proof'])
  chain(forger.chain(Z2, { epoch: NOW }, [
    { t: 'join', invite: honest.invRe.id, proof: signJoinProofFor(invR, J) }, markerPut('replayed-join-proof')
  ]), ['bad-join-proof'])
  // A member's entry with a wrong signature: another key's, and a flipped bit.
  const wrongKey = signEntry(J, { space: origin.id, author: W1.publicKey, epoch: NOW + 1, seq: 0, prev: null, clock: { wallMs: ++forger.t, counter: 0 }, body: markerPut('wrong-key') })
  single(wire(wrongKey), 'bad-signature')
  const flipped = forger.first(W1, NOW + 2, markerPut('flipped-sig'))
  const sig = new Uint8Array(flipped.sig); sig[5] = (sig[5] as number) ^ 1
  single([flipped.bytes, sig], 'bad-signature')
  // Mutated bytes: the marker's text changed after signing (decodes, wrong id); truncated (does not decode).
  const mutated = forger.first(J, NOW + 3, markerPut('mutated'))
  single([replaceAscii(mutated.bytes, 'marker/mutated', 'marker/MUTATED'), mutated.sig], 'bad-signature')
  single([mutated.bytes.slice(0, mutated.bytes.length - 3), mutated.sig], 'malformed')
  // A run of honest entries that ends at J's next entry with a wrong signature: the whole run is invalid.
  const runTail = forger.after(J, lastOf(J), markerPut('run-bad-tail'))
  const jFeed = honest.o.feedOf(J)
  const badRun: SignedBytes[] = [...jFeed.slice(-2).map(wire), [runTail.bytes, flipped.sig]]
  badRuns.push(badRun)
  expected.set(badRun, ['bad-signature'])
}

function signJoinProofFor (inviteKey: typeof O, joiner: typeof O): Uint8Array {
  return signJoinProof(inviteKey, origin.id, joiner.publicKey)
}

const mixedChains: Entry[][] = [
  ...honestChains.map(c => [...c, ...(continuations.get(c[c.length - 1] as Entry) ?? [])]),
  ...forgedChains
]

function assertNothingInvalid (r: SpaceReplica): void {
  assert.deepEqual(visibleMarkers(r, COUNTERS), [], 'a forged or disqualified entry reached a view')
  assertConverged(r, ORIGIN_HASH)
  assert.deepEqual(r.aclList(), ORIGIN_ACL)
}

test('each forgery, after every honest entry, is stored without effect, held pending, or rejected with its reason', () => {
  const r = fresh(honest.o.genesis)
  for (const c of honestChains) assert.equal(r.ingestRun(c.map(wire), 'peer', NOW).reject, undefined)
  assertConverged(r, ORIGIN_HASH)
  const outcomes = (run: readonly SignedBytes[]): Outcome[] => {
    const res = r.ingestRun(run, 'forger', NOW)
    if (res.reject !== undefined) return [res.reject.reason as Outcome]
    return [...res.stored.map(() => 'stored' as const), ...Array<Outcome>(res.pending).fill('pending')]
  }
  for (const [last, chain] of continuations) assert.deepEqual(outcomes(chain.map(wire)), expected.get(chain), `continuation of ${authorKeyOf(last.author).slice(0, 8)}`)
  for (const chain of forgedChains) assert.deepEqual(outcomes(chain.map(wire)), expected.get(chain), `chain of ${authorKeyOf((chain[0] as Entry).author).slice(0, 8)}`)
  for (const e of loose) assert.deepEqual(outcomes([e]), expected.get(e))
  for (const run of badRuns) assert.deepEqual(outcomes(run), expected.get(run))
  assertNothingInvalid(r)
})

test('no invalid entry reaches a view: forged entries mixed in, single-entry runs in any order', async () => {
  const pool = [...mixedChains.flat().map(wire), ...loose]
  const firstLoose = pool.length - loose.length
  await checkProperty('invalid/single', seed => fc.assert(fc.property(singleEntryPlan(pool.length, 10), plan => {
    const r = fresh(honest.o.genesis)
    const results = deliver(r, toDeliveries(pool, plan), NOW)
    plan.runs.forEach((run, k) => {
      if ((run[0] as number) >= firstLoose) assert.notEqual(results[k]?.reject, undefined, 'an invalid entry was not rejected')
    })
    assertNothingInvalid(r)
  }), fcOptions(seed)))
})

test('no invalid entry reaches a view: forged chains as contiguous runs, in any order', async () => {
  const pool = [...mixedChains.flat().map(wire), ...loose, ...badRuns.flat()]
  const chains = chainIndices(mixedChains)
  const looseRuns = chainIndices([...loose.map(l => [l]), ...badRuns], mixedChains.flat().length)
  await checkProperty('invalid/runs', seed => fc.assert(fc.property(runPlan(chains, looseRuns, 8), plan => {
    const r = fresh(honest.o.genesis)
    deliver(r, toDeliveries(pool, plan), NOW)
    assertNothingInvalid(r)
  }), fcOptions(seed)))
})

// ------------------------------------------------------------------ 3. forks

const { F, B, G } = FORK_KEYS

/** Both peers' deliveries interleaved, then a catch-up in which each peer sends its feeds whole, in order. */
function forkPlan (c: ForkCase, runs: boolean): fc.Arbitrary<Plan> {
  const aCount = c.chainsA.flat().length
  const chainsA = chainIndices(c.chainsA)
  const chainsB = chainIndices(c.chainsB, aCount)
  const side = (chains: number[][], from: string): fc.Arbitrary<Plan> => (runs
    ? runPlan(chains, [], 4)
    : singleEntryPlan(chains.flat().length, 6).map(p => ({ runs: p.runs.map(r => r.map(i => (chains.flat()[i] as number))), peers: [] }))
  ).map(p => ({ runs: p.runs, peers: p.runs.map(() => from) }))
  return fc.tuple(side(chainsA, 'peer-a'), side(chainsB, 'peer-b'), fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }), fc.boolean())
    .map(([a, b, interleave, aFirst]) => {
      const out: Plan = { runs: [], peers: [] }
      const push = (p: Plan, k: number): void => { (out.runs as number[][]).push(p.runs[k] as number[]); (out.peers as string[]).push(p.peers[k] as string) }
      let i = 0; let j = 0; let k = 0
      while (i < a.runs.length || j < b.runs.length) {
        const takeA = j >= b.runs.length || (i < a.runs.length && interleave[k++ % interleave.length] === true)
        if (takeA) push(a, i++); else push(b, j++)
      }
      const catchUp: Plan[] = [{ runs: chainsA, peers: chainsA.map(() => 'peer-a') }, { runs: chainsB, peers: chainsB.map(() => 'peer-b') }]
      for (const p of aFirst ? catchUp : catchUp.reverse()) for (let x = 0; x < p.runs.length; x++) push(p, x)
      return out
    })
}

const forkPool = (c: ForkCase): SignedBytes[] => [...c.chainsA.flat(), ...c.chainsB.flat()].map(wire)

/**
 * `full`: the whole view hash, acl rows included, equals the reference's.
 * Without it, only the data views and every member's role are compared (the
 * acl rows list the fork cut, which is the lowest proven fork per feed).
 */
function assertForked (r: SpaceReplica, c: ForkCase, full: boolean): void {
  for (const f of c.forks.filter(x => !c.forks.some(y => y.author === x.author && y.epoch === x.epoch && y.seq < x.seq))) {
    const row = r.vector().find(v => authorKeyOf(v.author) === f.author && v.epoch === f.epoch)
    assert.ok(row !== undefined)
    assert.equal(row.frozen, true, 'the forked feed is not frozen')
    assert.equal(row.count, f.seq, 'the row of a forked feed ends before the fork')
    const before = f.a.seq > 0 ? (c.chainsA.flat().find(e => authorKeyOf(e.author) === f.author && e.epoch === f.epoch && e.seq === f.seq - 1) as Entry) : undefined
    assert.ok(before === undefined ? row.head === null : row.head !== null && bytesEqual(row.head, before.id))
    const proof = r.forkProofs().find(p => p.author === f.author && p.epoch === f.epoch && p.seq === f.seq)
    assert.ok(proof !== undefined, 'no fork proof at the fork position')
    const ids = [proof.a, proof.b].map(([bytes, sig]) => toHex(decodeId(bytes, sig))).sort()
    assert.deepEqual(ids, [entryIdOf(f.a.id), entryIdOf(f.b.id)].sort())
    assert.ok(r.serve(f.author, f.epoch, 0, 100).length <= f.seq, 'a frozen feed is served past its fork')
  }
  assert.deepEqual(visibleMarkers(r, COUNTERS), [], 'an entry at or after a fork is in a view')
  for (let i = 0; i < 3; i++) assert.ok(r.kvGet(`f/${i}`) !== undefined, 'an entry before the fork is missing')
  assert.ok(r.kvGet('b/0') !== undefined)
  const roles = new Map(r.aclList().map(x => [x.member, x.role]))
  assert.equal(roles.has(hex(G)), false, 'a grant from the fork position on is retracted')
  assert.equal(r.viewHash(DATA_VIEWS), c.dataHash, 'data views depend on which branch arrived first')
  assert.deepEqual(r.aclList(), c.acl, 'roles depend on which branch arrived first')
  assert.equal(rebuiltViewHash(r), r.viewHash())
  if (full) assert.equal(r.viewHash(), c.hash, 'views (acl rows) depend on which fork proof arrived first')
}

const forkCase = buildFork(false)

test('the fork reference: frozen feeds, proofs, retraction', () => {
  assertForked(forkCase.o.replica, forkCase, true)
})

test('fork: whichever branch arrives first, via two peers, the feed freezes at the fork and views agree', async () => {
  await checkProperty('fork/single', seed => fc.assert(fc.property(forkPlan(forkCase, false), plan => {
    const r = fresh(forkCase.o.genesis)
    deliver(r, toDeliveries(forkPool(forkCase), plan), forkCase.o.t + T_DELIVER_OFFSET)
    assertForked(r, forkCase, false)
  }), fcOptions(seed)))
})

test('fork: the same with contiguous runs from each peer', async () => {
  await checkProperty('fork/runs', seed => fc.assert(fc.property(forkPlan(forkCase, true), plan => {
    const r = fresh(forkCase.o.genesis)
    deliver(r, toDeliveries(forkPool(forkCase), plan), forkCase.o.t + T_DELIVER_OFFSET)
    assertForked(r, forkCase, false)
  }), fcOptions(seed)))
})

const doubleForkCase = buildFork(true)

test('fork: an author that forks twice in one feed gives the same views whichever fork is proven first', async () => {
  await checkProperty('fork/double', seed => fc.assert(fc.property(forkPlan(doubleForkCase, false), plan => {
    const r = fresh(doubleForkCase.o.genesis)
    deliver(r, toDeliveries(forkPool(doubleForkCase), plan), doubleForkCase.o.t + T_DELIVER_OFFSET)
    assertForked(r, doubleForkCase, false)
  }), fcOptions(seed)))
})

test('fork: the full view hash (acl rows included) is the same whichever proof arrived first', async () => {
  await checkProperty('fork/full-hash', seed => fc.assert(fc.property(forkPlan(forkCase, false), plan => {
    const r = fresh(forkCase.o.genesis)
    deliver(r, toDeliveries(forkPool(forkCase), plan), forkCase.o.t + T_DELIVER_OFFSET)
    assertForked(r, forkCase, true)
  }), { ...fcOptions(seed), endOnFailure: true }))
})

function decodeId (bytes: Uint8Array, sig: Uint8Array): Uint8Array {
  return decodeEntry(bytes, sig).id
}
