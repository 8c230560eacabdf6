import { fromHex } from '../codec/index.ts'
import { peerIdOf } from '../identity/index.ts'
import type { AuthorKey } from '../ids/index.ts'
import { dialableAddrs, MeshLinks } from '../net/index.ts'
import type { MeshCandidate } from '../net/index.ts'

/**
 * Peer exchange among members. Every node puts its own listen addresses in
 * its status record (telemetry/report.ts `addrs`), which is signed by its
 * key and reaches every member of its deployment through the members in
 * between (status-have / status-want), and no one else. When a member's
 * newer record arrives, the addresses are read here, and dialled (with the
 * member's peer id, so that another key is refused) in two cases:
 *
 * - this node keeps reaching that member (a member it reached before:
 *   peers.json): its new addresses replace the old. So two members that both
 *   moved find each other again through any third member both still reach.
 * - it is a member this node never reached but shares a data space with:
 *   a new link, within net/peer-exchange-links.ts's bounds (8 per space, 32
 *   in all; a shared folder first, then the most recently heard). So two
 *   members behind NATs meet through the relayed addresses they publish.
 *
 * A member of the deployment only (no data space in common) gets no new
 * link: else every node would dial every member. What a member claims passes
 * net/peer-exchange.ts's rule (shape, hosts, at most 8, and a relay only if
 * it is a member itself), and the redial schedule bounds the dials (one in
 * flight per peer, backoff; new addresses cut a wait short at most once a
 * minute). peers.json learns a new address when the dial succeeds
 * (identify), and the member's record stays in the store, so it is read
 * again at the next start.
 */
interface PeerExchangeInit {
  /** This node's peer id, and where it listens (each address ending /p2p/<it>). */
  readonly self: string
  addrs (): readonly string[]
  /** Whether this node keeps reaching the peer: a member of a space held here, reached before. */
  keepsReaching (peerId: string): boolean
  learnAddrs (peerId: string, addrs: readonly string[], hurry: boolean): void
  /** Whether a peer is a member of a space held here (a relay a member names must be one). Absent: anyone. */
  isMember? (peerId: string): boolean
  /** The data spaces held here that `author` is a current member of. Absent: none, so no new links. */
  sharedSpaces? (author: AuthorKey): readonly string[]
  /** The spaces this node has a folder bound to. */
  folderSpaces? (): readonly string[]
  now? (): number
}

interface Heard {
  readonly candidate: MeshCandidate
  readonly addrs: readonly string[]
  readonly atStart: boolean
}

export class PeerExchange {
  readonly #init: PeerExchangeInit
  readonly #links = new MeshLinks()
  /** Members heard since the last choice, decided together (all the stored records at start are one batch). */
  readonly #heard = new Map<string, Heard>()
  #choosing = false

  constructor (init: PeerExchangeInit) {
    this.#init = init
  }

  /**
   * A member's newer status record names `claimed` as where it listens, and `theirFolders` as the spaces
   * it has folders in. `atStart`: read from the store as the node starts, when every peer is being dialled
   * anyway: then the addresses do not spend the peer's hurry (redial.ts), which a record received a moment
   * later may need.
   */
  heard (author: AuthorKey, claimed: readonly string[], atStart: boolean, theirFolders: readonly string[] = []): void {
    const peerId = peerIdOf(fromHex(author))
    if (peerId === this.#init.self) return
    const relayOk = (relay: string): boolean => this.#init.isMember?.(relay) ?? true
    const addrs = dialableAddrs(peerId, claimed, this.#init.addrs(), this.#init.self, relayOk)
    if (addrs.length === 0) return
    if (this.#init.keepsReaching(peerId) || this.#links.has(peerId)) {
      this.#init.learnAddrs(peerId, addrs, !atStart)
      return
    }
    if (this.#links.full()) return
    const spaces = this.#init.sharedSpaces?.(author) ?? []
    if (spaces.length === 0) return
    const ours = new Set(this.#init.folderSpaces?.() ?? [])
    const folderSpaces = spaces.filter(s => ours.has(s) && theirFolders.includes(s))
    const heardMs = this.#init.now?.() ?? Date.now()
    this.#heard.set(peerId, { candidate: { peerId, spaces, folderSpaces, heardMs }, addrs, atStart })
    if (this.#choosing) return
    this.#choosing = true
    queueMicrotask(() => { this.#choose() })
  }

  #choose (): void {
    this.#choosing = false
    const heard = [...this.#heard.values()]
    this.#heard.clear()
    const byPeer = new Map(heard.map(h => [h.candidate.peerId, h]))
    for (const peerId of this.#links.choose(heard.map(h => h.candidate))) {
      const h = byPeer.get(peerId) as Heard
      this.#init.learnAddrs(peerId, h.addrs, !h.atStart)
    }
  }
}
