import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { keyPairFromSeed } from '../../src/identity/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { hasCode } from '../../src/ids/index.ts'
import { SpaceReplica } from '../../src/space/index.ts'
import type { SpaceKey } from '../../src/ids/index.ts'
import { recomputedViewHash } from '../space/view-rebuild.ts'

import { attack, equivocate, MARKERS } from './byzantine.ts'
import { SimNetwork } from './network.ts'
import type { SimNode } from './network.ts'

/**
 * The scenario, from one seed:
 *   50 nodes in a random sparse topology (a random spanning tree plus extra
 *   edges), one space, every honest node a writer; writes at random nodes;
 *   20% of links break mid-stream and come back; a partition that heals;
 *   10% of nodes leave and restart from their store; two Byzantine nodes:
 *   a writer that equivocates after valid entries, and a reader that sends
 *   garbage, oversized, forged, unauthorized, replayed and flooding messages.
 *
 * Safety (checked at the end, on every honest node): no marked entry of a
 * Byzantine node in any view; views equal to views rebuilt from the store.
 * Liveness: within `convergeWithinMs` of the last heal, every honest node
 * has identical views, every acknowledged write, and the fork proof.
 */
export interface ScenarioConfig {
  readonly seed: number
  readonly nodes: number
  readonly extraEdgesPerNode: number
  readonly writes: number
  readonly writePhaseMs: number
  readonly linkBreakFraction: number
  readonly churnFraction: number
  readonly partition: boolean
  readonly byzantine: boolean
  readonly convergeWithinMs: number
}

export const DEFAULT_SCENARIO: Omit<ScenarioConfig, 'seed'> = {
  nodes: 50,
  extraEdgesPerNode: 1,
  writes: 300,
  writePhaseMs: 30_000,
  linkBreakFraction: 0.2,
  churnFraction: 0.1,
  partition: true,
  byzantine: true,
  convergeWithinMs: 60_000
}

export interface ScenarioReport {
  readonly seed: number
  readonly nodes: number
  readonly links: number
  readonly acknowledgedWrites: number
  readonly lastHealMs: number
  readonly partitionMs: readonly [number, number] | null
  readonly lastWriteMs: number
  /** Virtual time at which every honest node first agreed, after the last write and the partition's heal. */
  readonly convergedAtMs: number | null
  /** Virtual ms from the last heal until every honest node agreed (null: never, within the bound). */
  readonly convergedAfterMs: number | null
  readonly viewHash: string
  readonly forkSeq: number | null
  readonly messages: number
  readonly bytes: number
  readonly lostInFlight: number
  readonly entriesInPerStored: number
  readonly misbehaviourEvents: number
  readonly disconnectsForMisbehaviour: number
  readonly eventsRun: number
}

export function runScenario (config: ScenarioConfig): ScenarioReport {
  const net = new SimNetwork(config.seed)
  const key = (name: string): KeyPair => keyPairFromSeed(crypto.createHash('sha256').update(`samepage-sim/${config.seed}/${name}`).digest())
  for (let i = 0; i < config.nodes; i++) net.addNode(key(`node-${i}`))
  const owner = net.nodes[0] as SimNode
  const equivocator = config.byzantine ? net.nodes[config.nodes - 1] as SimNode : undefined
  const attacker = config.byzantine ? net.nodes[config.nodes - 2] as SimNode : undefined
  const byzantine = new Set([equivocator, attacker].filter(n => n !== undefined))
  const honest = net.nodes.filter(n => !byzantine.has(n))
  const stranger = key('stranger')

  // The space: created by node 0, which grants writer to every honest node and the equivocator, reader to the attacker.
  const origin = SpaceReplica.create(owner.store, owner.keyPair, 'sim', 0)
  const space: SpaceKey = origin.key
  for (const n of net.nodes) {
    if (n === owner) continue
    origin.append(owner.keyPair, { t: 'acl.grant', member: n.keyPair.publicKey, role: n === attacker ? 'reader' : 'writer', from: { epoch: 0, seq: 0 } }, 1)
    SpaceReplica.adopt(n.store, [origin.genesis.bytes, origin.genesis.sig])
  }

  buildTopology(net, honest, [...byzantine])
  for (const n of net.nodes) n.start(0)
  for (const link of net.links) net.tryUp(link)

  // Writes by random honest online nodes; a write is acknowledged once its node committed it.
  const acknowledged: string[] = []
  let lastWriteMs = 0
  let lastWriteScheduledMs = 0
  for (let i = 0; i < config.writes; i++) {
    const at = net.rng.int(1_000, config.writePhaseMs)
    lastWriteScheduledMs = Math.max(lastWriteScheduledMs, at)
    net.at(at, () => {
      const online = honest.filter(n => n.online)
      if (online.length === 0) return
      const node = net.rng.pick(online)
      const kind = net.rng.int(0, 4)
      const body = kind === 0 ? { t: 'counter.add' as const, name: 'hits', delta: net.rng.int(-5, 10) }
        : kind === 1 ? { t: 'ledger.append' as const, tx: { i, by: node.index } }
          : kind === 2 ? { t: 'kv.put' as const, key: `shared-${i % 7}`, value: i }
            : { t: 'kv.put' as const, key: `w-${i}`, value: i }
      try {
        node.engine?.append(space, body, net.nowMs)
        if (body.t === 'kv.put' && body.key.startsWith('w-')) acknowledged.push(body.key)
        lastWriteMs = net.nowMs
      } catch (err) {
        // A node that has not received its grant yet cannot write: refused locally, as a user would see it.
        assert.ok(hasCode(err, 'NOT_ALLOWED'), String(err))
      }
      net.pump(node)
    })
  }

  // Status records: every honest node publishes a few, at random times; the newest must reach everyone.
  const statusRounds = new Map<SimNode, number>()
  for (const node of honest) {
    for (let k = 0; k < 3; k++) {
      net.at(net.rng.int(1_000, config.writePhaseMs), () => {
        if (node.engine === null) return
        const round = (statusRounds.get(node) ?? 0) + 1
        try {
          node.engine.publishStatus(space, { round, node: node.index }, net.nowMs)
          statusRounds.set(node, round)
        } catch (err) {
          assert.ok(hasCode(err, 'NOT_ALLOWED'), String(err)) // not a member yet: its grant has not arrived
        }
        net.pump(node)
      })
    }
  }

  let lastHealMs = 0
  const healed = (atMs: number): void => { lastHealMs = Math.max(lastHealMs, atMs) }

  // 20% of links break mid-stream during the run, and come back after a while.
  for (const link of net.rng.shuffle([...net.links]).slice(0, Math.round(net.links.length * config.linkBreakFraction))) {
    const at = net.rng.int(2_000, config.writePhaseMs)
    const forMs = net.rng.int(500, 5_000)
    net.at(at, () => net.fail(link, forMs))
    healed(at + forMs)
  }

  // A partition into two halves that heals.
  let partitionMs: [number, number] | null = null
  if (config.partition) {
    const side = new Map(net.nodes.map(n => [n, net.rng.chance(0.5)]))
    // Late enough that it often heals after the last write: what converges then is the heal's doing.
    const start = net.rng.int(config.writePhaseMs / 2, config.writePhaseMs * 0.8)
    const end = start + net.rng.int(8_000, 15_000)
    net.at(start, () => net.partition((a, b) => side.get(a) !== side.get(b)))
    net.at(end, () => net.heal())
    healed(end)
    partitionMs = [start, end]
  }

  // Churn: nodes leave, then restart from their store.
  for (const node of net.rng.shuffle(honest.filter(n => n !== owner)).slice(0, Math.round(config.nodes * config.churnFraction))) {
    const at = net.rng.int(3_000, config.writePhaseMs - 5_000)
    const forMs = net.rng.int(2_000, 8_000)
    net.at(at, () => net.stopNode(node))
    net.at(at + forMs, () => net.startNode(node))
    healed(at + forMs)
  }

  // Byzantine behaviour.
  if (equivocator !== undefined) {
    for (let t = 2_000; t <= 10_000; t += 2_000) {
      net.at(t, () => { equivocator.engine?.append(space, { t: 'kv.put', key: `b1-valid-${t}`, value: t }, net.nowMs); net.pump(equivocator) })
    }
    const tryEquivocate = (): void => {
      if (!equivocate(net, equivocator, equivocator.replica(space), 3)) { net.at(net.nowMs + 1_000, tryEquivocate); return }
      // From now on it says nothing more: its engine is gone, its links stay up.
      equivocator.stop()
    }
    net.at(12_000, tryEquivocate)
  }
  if (attacker !== undefined) {
    let round = 0
    for (let t = 2_000; t < config.writePhaseMs; t += 700) {
      net.at(t, () => attack(net, attacker, stranger, honest[1]?.keyPair ?? owner.keyPair, attacker.replica(space), round++))
    }
  }

  // Safety phase until the writes are done and the partition healed; then liveness: step 100 ms at a time
  // until every honest node agrees after the last heal (bounded by convergeWithinMs).
  const settleFrom = Math.min(lastHealMs, Math.max(lastWriteScheduledMs, partitionMs?.[1] ?? 0))
  net.runUntil(settleFrom)
  let convergedAfterMs: number | null = null
  let convergedAtMs: number | null = null
  for (let t = settleFrom; t <= lastHealMs + config.convergeWithinMs; t += 100) {
    net.runUntil(t)
    if (!agreed(honest, space, equivocator) || !statusesAgreed(honest, space, statusRounds)) continue
    convergedAtMs ??= t
    if (t >= lastHealMs) { convergedAfterMs = t - lastHealMs; break }
  }

  const first = (honest[0] as SimNode).replica(space)
  const forks = first.forkProofs()
  let entriesIn = 0
  let stored = 0
  let misbehaviour = 0
  let disconnects = 0
  for (const n of honest) {
    entriesIn += n.engine?.stats.entriesIn ?? 0
    stored += n.engine?.stats.entriesStored ?? 0
    misbehaviour += n.events.filter(e => e.type === 'misbehaviour').length
    disconnects += n.events.filter(e => e.type === 'disconnect').length
  }
  return {
    seed: config.seed,
    nodes: config.nodes,
    links: net.links.length,
    acknowledgedWrites: acknowledged.length,
    lastHealMs,
    partitionMs,
    lastWriteMs,
    convergedAtMs,
    convergedAfterMs,
    viewHash: first.viewHash(),
    forkSeq: forks.length === 0 ? null : Math.min(...forks.map(f => f.seq)),
    messages: net.traffic.messages,
    bytes: net.traffic.bytes,
    lostInFlight: net.traffic.lostInFlight,
    entriesInPerStored: stored === 0 ? 0 : entriesIn / stored,
    misbehaviourEvents: misbehaviour,
    disconnectsForMisbehaviour: disconnects,
    eventsRun: net.eventsRun,
    ...checkSafety(honest, space, equivocator, acknowledged)
  }
}

/** Every honest node online, with the same views, and (if there is an equivocator) the same fork proof. */
function agreed (honest: readonly SimNode[], space: SpaceKey, equivocator: SimNode | undefined): boolean {
  if (honest.some(n => !n.online)) return false
  const hashes = new Set(honest.map(n => n.replica(space).viewHash()))
  if (hashes.size !== 1) return false
  if (equivocator === undefined) return true
  const forkSeqs = new Set(honest.map(n => {
    const proofs = n.replica(space).forkProofs().filter(f => f.author === equivocator.name)
    return proofs.length === 0 ? -1 : Math.min(...proofs.map(f => f.seq))
  }))
  return forkSeqs.size === 1 && !forkSeqs.has(-1)
}

/** Every honest node holds, for every honest node, the newest status record it published. */
function statusesAgreed (honest: readonly SimNode[], space: SpaceKey, rounds: ReadonlyMap<SimNode, number>): boolean {
  for (const n of honest) {
    const r = n.replica(space)
    for (const [author, round] of rounds) {
      if (r.status(author.name)?.body.round !== round) return false
    }
  }
  return true
}

/** Safety: checked on every honest node; throws (with the seed, printed by the caller) on any breach. */
function checkSafety (honest: readonly SimNode[], space: SpaceKey, equivocator: SimNode | undefined, acknowledged: readonly string[]): Record<string, never> {
  for (const n of honest) {
    const r = n.replica(space)
    const keys = r.kvList().map(kv => kv.key)
    const leaked = keys.filter(k => MARKERS.some(m => k.startsWith(m)))
    assert.deepEqual(leaked, [], `node ${n.index}: Byzantine entries in its view`)
    assert.ok(r.statuses().every(st => st.body.forged !== true), `node ${n.index}: a forged status record in its view`)
    assert.equal(r.viewHash(), recomputedViewHash(n.store, space), `node ${n.index}: views differ from a rebuild from its store`)
    const missing = acknowledged.filter(k => !keys.includes(k))
    assert.deepEqual(missing, [], `node ${n.index}: acknowledged writes missing`)
    if (equivocator !== undefined) {
      assert.ok(r.forkProofs().some(f => f.author === equivocator.name), `node ${n.index}: no fork proof for the equivocator`)
      assert.ok(keys.some(k => k.startsWith('b1-valid-')), `node ${n.index}: the equivocator's valid entries before the fork are gone`)
    }
  }
  return {}
}

function buildTopology (net: SimNetwork, honest: readonly SimNode[], byzantine: readonly SimNode[]): void {
  const linked = new Set<string>()
  const link = (a: SimNode, b: SimNode): void => {
    const k = a.index < b.index ? `${a.index}-${b.index}` : `${b.index}-${a.index}`
    if (a === b || linked.has(k)) return
    linked.add(k)
    net.addLink(a, b, net.rng.int(5, 60), net.rng.int(0, 10))
  }
  // A random spanning tree over the honest nodes keeps them connected without the Byzantine ones.
  const order = net.rng.shuffle([...honest])
  for (let i = 1; i < order.length; i++) link(order[i] as SimNode, order[net.rng.int(0, i)] as SimNode)
  for (const n of honest) link(n, net.rng.pick(honest))
  for (const b of byzantine) for (let i = 0; i < 3; i++) link(b, net.rng.pick(honest))
}

