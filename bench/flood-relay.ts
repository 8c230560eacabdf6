import { toHex } from '../src/codec/index.ts'
import type { Entry, SignedBytes } from '../src/codec/index.ts'
import type { SpaceReplica } from '../src/space/index.ts'
import type { Relay, RelayNeighbour, Send } from '../src/sync/index.ts'

/**
 * Naive flooding, the baseline the benchmarks measure the protocol against:
 * every new entry pushed, unasked, to every member neighbour but its sender,
 * whether it holds it or not. Injected into a node's engine (SyncInit.relay,
 * NodeOptions.relay) only by bench/storm.ts; the protocol never floods.
 */
export class FloodRelay implements Relay {
  /** Pushed entries and the message rate they cost are this strategy at work: not charged as replays or floods. */
  readonly pushes = true

  stored (replica: SpaceReplica, entries: readonly Entry[], neighbours: readonly RelayNeighbour[]): Send[] {
    // One run per feed (author, then epoch), in the order the entries came.
    const feeds = new Map<string, Map<number, SignedBytes[]>>()
    for (const e of entries) {
      let epochs = feeds.get(toHex(e.author))
      if (epochs === undefined) feeds.set(toHex(e.author), epochs = new Map())
      let run = epochs.get(e.epoch)
      if (run === undefined) epochs.set(e.epoch, run = [])
      run.push([e.bytes, e.sig])
    }
    const runs = [...feeds.values()].flatMap(epochs => [...epochs.values()])
    const out: Send[] = []
    for (const n of neighbours) for (const run of runs) out.push({ peer: n.peer, msg: { m: 'entries', space: replica.id, run } })
    return out
  }

  flush (): Send[] {
    return []
  }

  peerGone (): void {}
}
