import { fromHex } from '../codec/index.ts'
import { peerIdOf } from '../identity/index.ts'
import type { AuthorKey } from '../ids/index.ts'
import { dialableAddrs } from '../net/index.ts'

/**
 * Peer exchange among members. Every node puts its own listen addresses in
 * its status record (telemetry/report.ts `addrs`), which is signed by its
 * key and reaches every member of its deployment through the members in
 * between (status-have / status-want), and no one else. When a member's
 * newer record arrives, the addresses are read here: if this node keeps
 * reaching that member (a member it reached before: peers.json) and is not
 * connected to it, it dials the new addresses, with the member's peer id so
 * that another key is refused. So two members that both moved find each
 * other again through any third member both still reach.
 *
 * It widens nobody's mesh: the addresses of a member this node never
 * reached are not dialled (else every node would dial every member of the
 * deployment). What a member claims passes net/peer-exchange.ts's rule
 * (shape, hosts, at most 8), and the redial schedule bounds the dials
 * (one in flight per peer, backoff; new addresses cut a wait short at
 * most once a minute). peers.json learns a new address when the dial
 * succeeds (identify), and the member's record stays in the store, so it is
 * read again at the next start.
 */
interface PeerExchangeInit {
  /** This node's peer id, and where it listens (each address ending /p2p/<it>). */
  readonly self: string
  addrs (): readonly string[]
  /** Whether this node keeps reaching the peer: a member of a space held here, reached before. */
  keepsReaching (peerId: string): boolean
  learnAddrs (peerId: string, addrs: readonly string[], hurry: boolean): void
}

export class PeerExchange {
  readonly #init: PeerExchangeInit

  constructor (init: PeerExchangeInit) {
    this.#init = init
  }

  /**
   * A member's newer status record names `claimed` as where it listens. `atStart`: read from the store as
   * the node starts, when every peer is being dialled anyway: then the addresses do not spend the
   * peer's hurry (redial.ts), which a record received a moment later may need.
   */
  heard (author: AuthorKey, claimed: readonly string[], atStart: boolean): void {
    const peerId = peerIdOf(fromHex(author))
    if (peerId === this.#init.self || !this.#init.keepsReaching(peerId)) return
    const addrs = dialableAddrs(peerId, claimed, this.#init.addrs(), this.#init.self)
    if (addrs.length > 0) this.#init.learnAddrs(peerId, addrs, !atStart)
  }
}
