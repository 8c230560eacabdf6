import { readTextOr, writeFileAtomic } from '../atomic-file/index.ts'

/**
 * Addresses of the peers this node has reached, as they announced them
 * (identify), kept in `peers.json` in the data directory and dialled again at
 * start: a node restarted on a new port finds its peers by itself. Bounded;
 * written atomically (atomic-file/). Only members of a space
 * we hold are written (decision 17): a stranger's addresses, with free
 * identities, would push our peers out. A peer not (yet) a member waits in a
 * small bounded list until it becomes one (a joiner) or is pushed out.
 *
 * The list lives in memory and the file follows it at most once per
 * PEERS_SAVE_EVERY_MS (a change after a quiet spell at once, the ones that
 * follow together at the end of the spell) and at a clean stop (flush): each
 * write is a new file and two fsyncs on the main thread, and a member that
 * reconnects in a loop, naming a new address each time (identify), had the
 * node write once per connection (a review's probe). A killed process loses
 * at most the last spell's changes: its peers announce their addresses again
 * when they next connect, and the addresses written before still lead to most.
 */
const PEERS_MAX = 500
const ADDRS_PER_PEER_MAX = 8
export const UNCONFIRMED_PEERS_MAX = 64
const PEERS_SAVE_EVERY_MS = 30_000

/** When peers.json is written: the least time between two writes, the clock and the timer (tests bring their own). */
interface SaveTiming {
  readonly everyMs?: number | undefined
  readonly now?: () => number
  /** Runs `save` in `ms`; returns how to call it off. Absent: a timer that does not keep the process alive. */
  readonly later?: (save: () => void, ms: number) => () => void
}

export class KnownPeers {
  readonly #file: string
  readonly #peers: Map<string, string[]>
  readonly #unconfirmed = new Map<string, string[]>()
  readonly #isMember: (peerId: string) => boolean
  readonly #everyMs: number
  readonly #now: () => number
  readonly #later: (save: () => void, ms: number) => () => void
  /** The list changed since the file was last written. */
  #dirty = false
  #savedMs: number | undefined
  /** Calls off the save waiting for the end of the spell; undefined while none waits. */
  #cancelSave: (() => void) | undefined
  #stopped = false

  /** `isMember`: whether a peer is a member of a space held here (absent: every peer counts as one). */
  constructor (file: string, isMember: (peerId: string) => boolean = () => true, timing: SaveTiming = {}) {
    this.#file = file
    this.#peers = new Map(readPeers(file))
    this.#isMember = isMember
    this.#everyMs = timing.everyMs ?? PEERS_SAVE_EVERY_MS
    this.#now = timing.now ?? Date.now
    this.#later = timing.later ?? unrefTimer
  }

  addrs (): string[] {
    return [...this.#peers.values()].flat()
  }

  /**
   * A peer told us its addresses: remembered if it is a member of a space we hold,
   * else held until confirm() finds it one.
   */
  remember (peerId: string, addrs: readonly string[]): void {
    if (this.#isMember(peerId)) { this.#unconfirmed.delete(peerId); this.#write(peerId, addrs); return }
    this.#unconfirmed.delete(peerId)
    this.#unconfirmed.set(peerId, addrs.slice(0, ADDRS_PER_PEER_MAX))
    while (this.#unconfirmed.size > UNCONFIRMED_PEERS_MAX) {
      this.#unconfirmed.delete(this.#unconfirmed.keys().next().value as string)
    }
  }

  /** After the ACL changed: the waiting peers that are members now are remembered. */
  confirm (): void {
    for (const [peerId, addrs] of [...this.#unconfirmed]) {
      if (!this.#isMember(peerId)) continue
      this.#unconfirmed.delete(peerId)
      this.#write(peerId, addrs)
    }
  }

  /**
   * After the members changed (this node left a space, a member was revoked or cut at a fork): the peers that are
   * members of no space held here any more are forgotten, and returned.
   */
  prune (): string[] {
    const gone = [...this.#peers.keys()].filter(peerId => !this.#isMember(peerId))
    if (gone.length === 0) return gone
    for (const peerId of gone) this.#peers.delete(peerId)
    // Written at once: what ends memberships is the ACL (admins' revokes, a member's own fork), not a peer's claims,
    // and a peer removed must not come back from the file after a crash.
    this.#dirty = true
    this.#saveNow()
    return gone
  }

  /** The node stops: what changed since the last write is written now, and nothing after (its directory is let go). */
  flush (): void {
    this.#saveNow()
    this.#stopped = true
  }

  has (peerId: string): boolean {
    return this.#peers.has(peerId)
  }

  #write (peerId: string, addrs: readonly string[]): void {
    const next = [...new Set(addrs)].slice(0, ADDRS_PER_PEER_MAX)
    const old = this.#peers.get(peerId)
    if (old !== undefined && old.join() === next.join()) return
    this.#peers.delete(peerId)
    this.#peers.set(peerId, next)
    while (this.#peers.size > PEERS_MAX) this.#peers.delete(this.#peers.keys().next().value as string)
    this.#changed()
  }

  /** Written now after a quiet spell, else once at the spell's end with whatever changed meanwhile. */
  #changed (): void {
    this.#dirty = true
    if (this.#cancelSave !== undefined || this.#stopped) return
    const waitMs = this.#savedMs === undefined ? 0 : this.#savedMs + this.#everyMs - this.#now()
    if (waitMs <= 0) { this.#save(); return }
    this.#cancelSave = this.#later(() => {
      this.#cancelSave = undefined
      this.#save()
    }, waitMs)
  }

  #saveNow (): void {
    this.#cancelSave?.()
    this.#cancelSave = undefined
    if (this.#dirty && !this.#stopped) this.#save()
  }

  #save (): void {
    this.#savedMs = this.#now()
    this.#dirty = false
    try {
      writeFileAtomic(this.#file, JSON.stringify(Object.fromEntries(this.#peers), null, 1))
    } catch {
      // Remembering peers is a convenience: a full disk must not stop syncing. The next change or the stop tries again.
      this.#dirty = true
    }
  }
}

function unrefTimer (save: () => void, ms: number): () => void {
  const timer = setTimeout(save, ms)
  timer.unref() // a node that is not stopped cleanly loses the spell's changes, which its peers announce again
  return () => { clearTimeout(timer) }
}

function readPeers (file: string): [string, string[]][] {
  try {
    const raw = JSON.parse(readTextOr(file, 'null')) as unknown
    if (raw === null || typeof raw !== 'object') return []
    return Object.entries(raw).filter((e): e is [string, string[]] =>
      Array.isArray(e[1]) && e[1].every(a => typeof a === 'string'))
  } catch {
    return []
  }
}
