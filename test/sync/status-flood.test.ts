import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { encodeMessage } from '../../src/codec/index.ts'
import { keyPairFromSeed } from '../../src/identity/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import type { SpaceKey } from '../../src/ids/index.ts'
import { SpaceReplica, signStatus } from '../../src/space/index.ts'
import { STATUS_SPACING_MS } from '../../src/sync/index.ts'
import { SimNetwork } from '../sim/network.ts'
import type { SimNode } from '../sim/network.ts'

/**
 * One member floods status records (a review's probe): published through its engine every millisecond, or pushed raw,
 * unasked, 1,500 a second. Every node of a line H - N1 - ... - Nk stored and announced each record at one per link
 * round trip (334 a second at every node on 1 ms links, at any distance). Now a node stores a peer's record of an
 * author at most once per STATUS_SPACING_MS and holds the newest for then: each node stores about one a second, and
 * every node ends holding the member's last record. The real engines on test/sim's virtual clock.
 */
const PAD = 'x'.repeat(15_000)

function line (k: number, latencyMs: number): { net: SimNetwork, honest: SimNode[], hostile: SimNode, space: SpaceKey } {
  const net = new SimNetwork(1)
  const key = (name: string): KeyPair => keyPairFromSeed(crypto.createHash('sha256').update(`status-flood/${name}`).digest())
  const honest = Array.from({ length: k }, (_, i) => net.addNode(key(`n${i}`)))
  const hostile = net.addNode(key('hostile'))
  const owner = honest[0] as SimNode
  const origin = SpaceReplica.create(owner.store, owner.keyPair, 'sim', 0)
  for (const n of net.nodes) {
    if (n === owner) continue
    origin.append(owner.keyPair, { t: 'acl.grant', member: n.keyPair.publicKey, role: n === hostile ? 'reader' : 'writer', from: { epoch: 0, seq: 0 } }, 1)
    SpaceReplica.adopt(n.store, [origin.genesis.bytes, origin.genesis.sig])
  }
  net.addLink(hostile, owner, latencyMs, 0)
  for (let i = 1; i < k; i++) net.addLink(honest[i - 1] as SimNode, honest[i] as SimNode, latencyMs, 0)
  for (const n of net.nodes) n.start(0)
  for (const link of net.links) net.tryUp(link)
  net.runUntil(3_000)
  return { net, honest, hostile, space: origin.key }
}

/** Records of `author` each node stored (a `status` event each), and whether all hold `last` now. */
function outcome (honest: SimNode[], hostile: SimNode, space: SpaceKey, last: number): { stored: number[], allHoldLast: boolean } {
  const stored = honest.map(n => n.events.filter(e => e.type === 'status' && e.author === hostile.name).length)
  const allHoldLast = honest.every(n => n.replica(space).status(hostile.name)?.body.n === last)
  return { stored, allHoldLast }
}

describe('a member flooding status records', () => {
  for (const latencyMs of [1, 10]) {
    test(`published every millisecond for 1 s, links of ${latencyMs} ms: about one a second stored at each node, the last everywhere`, () => {
      const { net, honest, hostile, space } = line(8, latencyMs)
      const start = 5_000
      let n = 0
      for (let t = start; t < start + 1_000; t++) {
        net.at(t, () => { hostile.engine?.publishStatus(space, { n: n++, pad: PAD }, net.nowMs); net.pump(hostile) })
      }
      net.runUntil(start + 1_000 + 10_000)
      const { stored, allHoldLast } = outcome(honest, hostile, space, n - 1)
      assert.equal(n, 1_000)
      for (const s of stored) assert.ok(s >= 1 && s <= 1_000 / STATUS_SPACING_MS + 2, `stored per node: ${stored.join(', ')}`)
      assert.ok(allHoldLast, 'every node holds the member\'s last record')
    })
  }

  test('pushed unasked, 1,500 a second for 4 s: its neighbour stores about one a second too', () => {
    const { net, honest, hostile, space } = line(6, 10)
    const owner = honest[0] as SimNode
    const sid = owner.replica(space).id
    const start = 5_000
    let n = 0
    for (let t = start; t < start + 4_000; t += 2) {
      net.at(t, () => {
        for (let j = 0; j < 3; j++) {
          const { bytes, sig } = signStatus(hostile.keyPair, { space: sid, author: hostile.keyPair.publicKey, clock: { wallMs: net.nowMs, counter: n }, body: { n, pad: PAD } })
          n++
          net.sendRaw(hostile, owner, encodeMessage({ m: 'status', space: sid, record: [bytes, sig] }), 'status')
        }
      })
    }
    net.runUntil(start + 4_000 + 10_000)
    const { stored, allHoldLast } = outcome(honest, hostile, space, n - 1)
    for (const s of stored) assert.ok(s <= 4_000 / STATUS_SPACING_MS + 2, `stored per node: ${stored.join(', ')}`)
    assert.ok(allHoldLast, 'every node holds the member\'s last record')
  })
})
