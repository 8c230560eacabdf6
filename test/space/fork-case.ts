/**
 * A space in which a writer and an admin each sign two entries at one
 * position of their feeds (decision 7), built once for the fork properties.
 */
import assert from 'node:assert/strict'
import type { Entry } from '../../src/codec/index.ts'
import { seededKey } from '../helpers/fixtures.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import type { AuthorKey } from '../../src/ids/index.ts'
export const DATA_VIEWS = ['kv', 'counter', 'ledger', 'files'] as const

import { Forger, Origin, hex, markerCounter, markerLedger, markerPut, wire } from './scenario.ts'

const FK = (name: string) => seededKey('space-properties-fork', name)
const fO = FK('owner'); const F = FK('forking-writer'); const B = FK('forking-admin'); const G = FK('granted-on-a-branch'); const W = FK('writer')
export const FORK_KEYS = { O: fO, F, B, G, W }

export interface ForkCase {
  readonly o: Origin
  /** Peer a holds the origin's feeds; peer b the same, but branch B for each forked feed. */
  readonly chainsA: Entry[][]
  readonly chainsB: Entry[][]
  readonly forks: { author: AuthorKey, epoch: number, seq: number, a: Entry, b: Entry }[]
  /** The reference's full view hash, and of its data views alone (kv, counter, ledger). */
  readonly hash: string
  readonly dataHash: string
  readonly acl: ReturnType<Origin['replica']['aclList']>
}

/**
 * Writer F forks at seq 3 (both branches carry only markers from there); admin
 * B forks at seq 2, where branch A grants G writer (G writes a marker) and
 * branch B invites. With `double`, F forks again at seq 5 of branch A.
 */
export function buildFork (double: boolean): ForkCase {
  const o = new Origin(fO, double ? 'fork-double' : 'fork')
  o.grant(fO, B, 'admin', { epoch: 0, seq: 0 })
  o.grant(fO, F, 'writer', { epoch: 0, seq: 0 })
  o.grant(fO, W, 'writer', { epoch: 0, seq: 0 })
  for (let i = 0; i < 3; i++) o.append(F, { t: 'kv.put', key: `f/${i}`, value: i })
  o.append(B, { t: 'kv.put', key: 'b/0', value: 0 })
  o.append(B, { t: 'counter.add', name: 'c', delta: 2 })
  const bA2 = o.grant(B, G, 'writer', { epoch: 0, seq: 0 })
  o.append(G, markerPut('granted-on-forked-branch'))
  o.append(B, markerPut('fork-admin-a3'))
  const fA3 = o.append(F, markerPut('fork-a3'))
  o.append(F, markerCounter('fork-a4'))
  o.append(F, markerLedger('fork-a5'))
  o.append(F, markerPut('fork-a6'))
  o.append(W, { t: 'kv.put', key: 'f/0', value: 'w' })
  o.append(fO, { t: 'kv.put', key: 'o', value: 1 })
  const fg = new Forger(o.replica.id, o.t)
  const fFeed = o.feedOf(F); const bFeed = o.feedOf(B)
  const fB = fg.chain(F, fFeed[2] as Entry, [markerPut('fork-b3'), markerLedger('fork-b4')])
  const bB = fg.chain(B, bFeed[1] as Entry, [{ t: 'invite', key: FK('inv').publicKey, role: 'writer', uses: 1, expiresMs: o.t + 1e9 }, markerPut('fork-admin-b3')])
  const forks = [
    { author: hex(F), epoch: fA3.epoch, seq: 3, a: fA3, b: fB[0] as Entry },
    { author: hex(B), epoch: bA2.epoch, seq: 2, a: bA2, b: bB[0] as Entry }
  ]
  const swap = new Map<string, Entry[]>([[hex(F), [...fFeed.slice(0, 3), ...fB]], [hex(B), [...bFeed.slice(0, 2), ...bB]]])
  const chainsA = [...o.feeds.values()].map(c => [...c])
  if (double) {
    const fA5b = fg.after(F, fFeed[4] as Entry, markerPut('fork-a5-second'))
    chainsA.push([...fFeed.slice(0, 5), fA5b])
    forks.push({ author: hex(F), epoch: fA3.epoch, seq: 5, a: fFeed[5] as Entry, b: fA5b })
  }
  const chainsB = [...o.feeds.values()].map(c => swap.get(authorKeyOf((c[0] as Entry).author)) ?? [...c])
  // The reference: the origin, told of the forks (the earliest of a feed first, as any node that stored branch A first would).
  for (const f of forks) {
    const res = o.replica.ingestFork(wire(f.a), wire(f.b), o.t)
    assert.equal(res.reject, undefined)
  }
  return { o, chainsA, chainsB, forks, hash: o.replica.viewHash(), dataHash: o.replica.viewHash(DATA_VIEWS), acl: o.replica.aclList() }
}

