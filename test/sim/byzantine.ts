import { encodeMessage, fromHex, MESSAGE_BYTES_MAX, ENTRY_BYTES_MAX } from '../../src/codec/index.ts'
import type { SignedBytes } from '../../src/codec/index.ts'
import { signEntry, signStatus } from '../../src/space/index.ts'
import type { SpaceReplica } from '../../src/space/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import type { SimNetwork, SimNode } from './network.ts'
import { authorKeyOf } from '../../src/ids/index.ts'

/**
 * Byzantine behaviours. Every entry they make carries a marker in its key,
 * so the checks can prove that none of it reached an honest view.
 */
export const MARKERS = ['forged-', 'unauth-', 'stranger-', 'postfork-', 'oversized-'] as const

/**
 * An equivocating writer: two different runs at the same seq, each sent to
 * half of its neighbours (both to the one neighbour if only one link is up).
 * False if no link was up (the caller tries again later).
 */
export function equivocate (net: SimNetwork, writer: SimNode, space: SpaceReplica, branchLength: number): boolean {
  const author = authorKeyOf(writer.keyPair.publicKey)
  const row = space.vector().filter(r => authorKeyOf(r.author) === author).sort((a, b) => b.epoch - a.epoch)[0]
  if (row === undefined || row.head === null) throw new Error('the equivocator has written nothing yet')
  const branches = (['A', 'B'] as const).map(name => {
    const run: SignedBytes[] = []
    let prev = row.head as Uint8Array
    for (let i = 0; i < branchLength; i++) {
      const e = signEntry(writer.keyPair, {
        space: space.id, author: writer.keyPair.publicKey, epoch: row.epoch, seq: row.count + i, prev,
        clock: { wallMs: net.nowMs + 1 + i, counter: 0 }, body: { t: 'kv.put', key: `postfork-${name}-${i}`, value: i }
      })
      run.push([e.bytes, e.sig])
      prev = e.id
    }
    return run
  })
  const neighbours = net.linksOf(writer).filter(l => l.up).map(l => l.a === writer ? l.b : l.a)
  if (neighbours.length === 0) return false
  const targets = neighbours.length === 1 ? [neighbours[0], neighbours[0]] as SimNode[] : neighbours
  targets.forEach((n, i) => {
    net.sendRaw(writer, n, encodeMessage({ m: 'entries', space: space.id, run: branches[i % 2] as SignedBytes[] }), 'entries')
  })
  return true
}

/** One attack from a hostile member (a reader) on a random neighbour. */
export function attack (net: SimNetwork, attacker: SimNode, stranger: KeyPair, victimWriter: KeyPair, space: SpaceReplica, round: number): void {
  const neighbours = net.linksOf(attacker).filter(l => l.up).map(l => l.a === attacker ? l.b : l.a)
  if (neighbours.length === 0) return
  const to = net.rng.pick(neighbours)
  const send = (bytes: Uint8Array): void => net.sendRaw(attacker, to, bytes, 'attack')
  const entries = (run: SignedBytes[]): Uint8Array => encodeMessage({ m: 'entries', space: space.id, run })
  switch (round % 9) {
    case 0: // garbage
      send(net.rng.bytes(net.rng.int(1, 300)))
      break
    case 1: { // an entry over the size limit
      send(entries([[net.rng.bytes(ENTRY_BYTES_MAX + 100), net.rng.bytes(64)]]))
      break
    }
    case 2: { // forged: claims to be an honest writer, signed by the attacker
      const e = signEntry(attacker.keyPair, {
        space: space.id, author: victimWriter.publicKey, epoch: 1, seq: 0, prev: null,
        clock: { wallMs: net.nowMs, counter: 0 }, body: { t: 'kv.put', key: `forged-${round}`, value: 'x' }
      })
      send(entries([[e.bytes, e.sig]]))
      break
    }
    case 3: { // unauthorized: a reader's own write, correctly signed
      const own = space.vector().filter(r => authorKeyOf(r.author) === attacker.name).sort((a, b) => b.epoch - a.epoch)[0]
      const e = signEntry(attacker.keyPair, {
        space: space.id, author: attacker.keyPair.publicKey, epoch: own?.epoch ?? net.nowMs, seq: own?.count ?? 0, prev: own?.head ?? null,
        clock: { wallMs: net.nowMs, counter: 0 }, body: { t: 'kv.put', key: `unauth-${round}`, value: 'x' }
      })
      send(entries([[e.bytes, e.sig]]))
      break
    }
    case 4: { // a stranger's entries (not a member at all)
      const e = signEntry(stranger, {
        space: space.id, author: stranger.publicKey, epoch: 1, seq: 0, prev: null,
        clock: { wallMs: net.nowMs, counter: 0 }, body: { t: 'kv.put', key: `stranger-${round}`, value: 'x' }
      })
      send(entries([[e.bytes, e.sig]]))
      break
    }
    case 5: { // replay: valid entries the victim already holds, unasked
      const owner = space.vector().find(r => authorKeyOf(r.author) === space.owner)
      if (owner === undefined) break
      send(entries(space.serve(space.owner, owner.epoch, 0, owner.count)))
      break
    }
    case 6: // a message over the message limit
      if (round < 8) send(new Uint8Array(MESSAGE_BYTES_MAX + 1))
      else send(net.rng.bytes(net.rng.int(1, 50)))
      break
    case 8: { // a forged status record: an honest node's name, the attacker's signature
      const { bytes, sig } = signStatus(attacker.keyPair, { space: space.id, author: victimWriter.publicKey, clock: { wallMs: net.nowMs, counter: 0 }, body: { forged: true } })
      send(encodeMessage({ m: 'status', space: space.id, record: [bytes, sig] }))
      break
    }
    case 7: { // flood: a burst of announcements past the rate budget
      const row = { author: fromHex(space.owner), epoch: 1, count: 1, head: new Uint8Array(32), frozen: false }
      const bytes = encodeMessage({ m: 'have', space: space.id, heads: [row] })
      const burst = round < 16 ? 6_000 : 100
      for (let i = 0; i < burst; i++) send(bytes)
      break
    }
  }
}
