import { readTextOr, writeFileAtomic } from '../atomic-file/index.ts'

/**
 * Addresses of the peers this node has reached, as they announced them
 * (identify), kept in `peers.json` in the data directory and dialled again at
 * start: a node restarted on a new port finds its peers by itself. Bounded;
 * written atomically (atomic-file/). Only members of a space
 * we hold are written (decision 17): a stranger's addresses, with free
 * identities, would push our peers out. A peer not (yet) a member waits in a
 * small bounded list until it becomes one (a joiner) or is pushed out.
 */
const PEERS_MAX = 500
const ADDRS_PER_PEER_MAX = 8
export const UNCONFIRMED_PEERS_MAX = 64

export class KnownPeers {
  readonly #file: string
  readonly #peers: Map<string, string[]>
  readonly #unconfirmed = new Map<string, string[]>()
  readonly #isMember: (peerId: string) => boolean

  /** `isMember`: whether a peer is a member of a space held here (absent: every peer counts as one). */
  constructor (file: string, isMember: (peerId: string) => boolean = () => true) {
    this.#file = file
    this.#peers = new Map(readPeers(file))
    this.#isMember = isMember
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

  /** After this node left a space: the peers that are members of no space held here any more are forgotten. */
  prune (): void {
    const gone = [...this.#peers.keys()].filter(peerId => !this.#isMember(peerId))
    if (gone.length === 0) return
    for (const peerId of gone) this.#peers.delete(peerId)
    this.#save()
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
    this.#save()
  }

  #save (): void {
    try {
      writeFileAtomic(this.#file, JSON.stringify(Object.fromEntries(this.#peers), null, 1))
    } catch {
      // Remembering peers is a convenience: a full disk must not stop syncing.
    }
  }
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
