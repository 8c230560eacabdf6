import crypto from 'node:crypto'
import { keyPairFromSeed } from '../src/identity/index.ts'
import type { KeyPair } from '../src/identity/index.ts'
import { signEntry, SpaceReplica } from '../src/space/index.ts'
import { MemoryStore } from '../src/store/index.ts'
import type { Entry } from '../src/codec/index.ts'
import { SimNetwork } from '../test/sim/network.ts'
import type { SimNode } from '../test/sim/network.ts'

/**
 * Catch-up after a partition: two nodes share a state (the grants and one
 * entry per writer); during the partition W writers add E entries each on
 * one side; after the heal the other side catches up. Reported: bytes of
 * metadata (everything but the entries' own messages) both ways, which must
 * grow with W and not with E, and the payload bytes for scale.
 */
export function benchCatchupMetadata (writers: number, entriesPerWriter: number, seed = 1): Record<string, unknown> {
  const key = (name: string): KeyPair => keyPairFromSeed(crypto.createHash('sha256').update(`samepage-bench/${seed}/${name}`).digest())
  const owner = key('owner')
  const writerKeys = Array.from({ length: writers }, (_, i) => key(`w${i}`))
  const shared = new MemoryStore()
  const origin = SpaceReplica.create(shared, owner, 'catchup', 0)
  for (const w of writerKeys) origin.append(owner, { t: 'acl.grant', member: w.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, 1)
  // One entry per writer before the partition; E more each on side A during it.
  const heads = writerKeys.map(w => ({ w, head: origin.append(w, { t: 'kv.put', key: 'before', value: 0 }, 2) }))
  const sideA = shared.clone()
  const a = SpaceReplica.open(sideA, origin.key)
  let clock = 10
  for (const { w, head } of heads) {
    let prev: Entry = head
    const run: [Uint8Array, Uint8Array][] = []
    for (let s = 1; s <= entriesPerWriter; s++) {
      prev = signEntry(w, { space: a.id, author: w.publicKey, epoch: prev.epoch, seq: s, prev: prev.id, clock: { wallMs: clock++, counter: 0 }, body: { t: 'kv.put', key: `k${s % 100}`, value: s } })
      run.push([prev.bytes, prev.sig])
      if (run.length === 1024 || s === entriesPerWriter) { a.ingestRun(run, 'bench', clock); run.length = 0 }
    }
  }

  const net = new SimNetwork(seed)
  const nodeA = net.addNode(key('node-a'), sideA)
  const nodeB = net.addNode(key('node-b'), shared)
  // Both nodes are members (readers), so each serves the other.
  for (const n of [nodeA, nodeB]) {
    for (const r of [a, SpaceReplica.open(shared, origin.key)]) r.append(owner, { t: 'acl.grant', member: n.keyPair.publicKey, role: 'reader', from: { epoch: 0, seq: 0 } }, clock)
  }
  net.addLink(nodeA, nodeB, 10, 0)
  for (const n of [nodeA, nodeB]) n.start(clock)
  net.nowMs = clock
  const started = performance.now()
  net.tryUp(net.links[0]!)
  // Run until B holds what A holds (bounded: a livelock fails instead of spinning).
  const aRep = nodeA.replica(origin.key)
  for (let t = clock; t < clock + 600_000; t += 100) {
    net.runUntil(t)
    if (nodeB.replica(origin.key).viewHash() === aRep.viewHash()) break
  }
  const wallMs = performance.now() - started
  const bRep = nodeB.replica(origin.key)
  const caughtUp = bRep.viewHash() === nodeA.replica(origin.key).viewHash()
  const meta = (n: SimNode): number => Object.entries(n.engine!.stats.bytesOut).filter(([t]) => t !== 'entries').reduce((s, [, b]) => s + (b ?? 0), 0)
  const metadataBytes = meta(nodeA) + meta(nodeB)
  return {
    writers,
    entriesPerWriter,
    caughtUp,
    metadataBytes,
    metadataBytesPerWriter: metadataBytes / writers,
    metadataByType: { a: nodeA.engine!.stats.bytesOut, b: nodeB.engine!.stats.bytesOut },
    payloadBytes: nodeA.engine!.stats.bytesOut.entries ?? 0,
    entriesTransferred: nodeB.engine!.stats.entriesStored,
    catchupEntriesPerSecond: Math.round(nodeB.engine!.stats.entriesStored / (wallMs / 1000)),
    wallMs: Math.round(wallMs)
  }
}

if (import.meta.main) {
  const [w, e] = [Number(process.argv[2] ?? 100), Number(process.argv[3] ?? 10)]
  console.log(JSON.stringify(benchCatchupMetadata(w, e), null, 2))
}
