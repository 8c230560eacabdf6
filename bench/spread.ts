import crypto from 'node:crypto'
import { keyPairFromSeed } from '../src/identity/index.ts'
import { SpaceReplica } from '../src/space/index.ts'
import { MemoryStore } from '../src/store/index.ts'
import { SimNetwork } from '../test/sim/network.ts'
import type { SimNode } from '../test/sim/network.ts'
import { floodCopies, sparseGraph } from './topology.ts'

/**
 * One write spread to N simulated nodes (the real sync/ code on a virtual
 * network): payload copies each node received, announcement and pull bytes
 * per node, and propagation time; next to naive flooding over the same
 * topology and latencies, in the same run.
 */
export function benchSpread (opts: { nodes: number, writes: number, seed: number }): Record<string, unknown> {
  const net = new SimNetwork(opts.seed)
  const key = (i: number) => keyPairFromSeed(crypto.createHash('sha256').update(`samepage-bench/${opts.seed}/${i}`).digest())
  const keys = Array.from({ length: opts.nodes }, (_, i) => key(i))
  // Node 0 owns the space and grants every other node reader; all nodes start from that one state.
  const template = new MemoryStore()
  const origin = SpaceReplica.create(template, keys[0]!, 'spread', 0)
  for (let i = 1; i < opts.nodes; i++) origin.append(keys[0]!, { t: 'acl.grant', member: keys[i]!.publicKey, role: 'reader', from: { epoch: 0, seq: 0 } }, 1)
  for (let i = 0; i < opts.nodes; i++) net.addNode(keys[i]!, i === 0 ? template : template.clone())
  const edges = sparseGraph(net.rng, opts.nodes, 1).map(([a, b]) => [a, b, net.rng.int(5, 60)] as const)
  for (const [a, b, latencyMs] of edges) net.addLink(net.nodes[a] as SimNode, net.nodes[b] as SimNode, latencyMs, 0)
  for (const n of net.nodes) n.start(0)
  for (const link of net.links) net.tryUp(link)
  net.runUntil(5_000)

  const writer = net.nodes[0] as SimNode
  const space = origin.key
  const before = net.nodes.map(n => snapshot(n))
  const propagationMs: number[] = []
  let entryBytes = 0
  for (let w = 0; w < opts.writes; w++) {
    const startMs = net.nowMs
    const entry = writer.engine!.append(space, { t: 'kv.put', key: `k${w}`, value: 'x'.repeat(100) }, startMs)
    entryBytes = entry.bytes.length
    net.pump(writer)
    let reachedMs: number | null = null
    for (let t = startMs; t <= startMs + 30_000; t += 5) {
      net.runUntil(t)
      if (net.nodes.every(n => n.replica(space).kvGet(`k${w}`) !== undefined)) { reachedMs = t - startMs; break }
    }
    propagationMs.push(reachedMs ?? Infinity)
    net.runUntil(net.nowMs + 5_000)
  }
  const receivers = net.nodes.slice(1)
  const per = receivers.map((n, i) => diff(snapshot(n), before[i + 1]!))
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  const flood = floodCopies(opts.nodes, edges, 0).slice(1)
  return {
    nodes: opts.nodes,
    links: edges.length,
    meanDegree: 2 * edges.length / opts.nodes,
    writes: opts.writes,
    entryBytes,
    announceAndPull: {
      payloadCopiesPerNodePerWrite: mean(per.map(p => p.entriesIn)) / opts.writes,
      payloadCopiesPerNodePerWriteMax: Math.max(...per.map(p => p.entriesIn)) / opts.writes,
      announcementBytesPerNodePerWrite: mean(per.map(p => p.haveBytes)) / opts.writes,
      pullRequestBytesPerNodePerWrite: mean(per.map(p => p.wantBytes)) / opts.writes,
      payloadMessageBytesPerNodePerWrite: mean(per.map(p => p.entriesBytes)) / opts.writes,
      propagationMsMedian: quantile(propagationMs, 0.5),
      propagationMsMax: Math.max(...propagationMs)
    },
    naiveFlooding: {
      payloadCopiesPerNodePerWrite: mean(flood),
      payloadBytesPerNodePerWrite: mean(flood) * entryBytes
    },
    copiesRatioFloodingOverOurs: mean(flood) / (mean(per.map(p => p.entriesIn)) / opts.writes)
  }
}

interface Snap { entriesIn: number, haveBytes: number, wantBytes: number, entriesBytes: number }

function snapshot (n: SimNode): Snap {
  const s = n.engine!.stats
  return { entriesIn: s.entriesIn, haveBytes: s.bytesIn.have ?? 0, wantBytes: s.bytesIn.want ?? 0, entriesBytes: s.bytesIn.entries ?? 0 }
}

function diff (a: Snap, b: Snap): Snap {
  return { entriesIn: a.entriesIn - b.entriesIn, haveBytes: a.haveBytes - b.haveBytes, wantBytes: a.wantBytes - b.wantBytes, entriesBytes: a.entriesBytes - b.entriesBytes }
}

function quantile (xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN
}

if (import.meta.main) console.log(JSON.stringify(benchSpread({ nodes: Number(process.argv[2] ?? 1000), writes: Number(process.argv[3] ?? 5), seed: 1 }), null, 2))
