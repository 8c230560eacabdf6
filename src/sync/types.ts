import type { Entry, Message, MessageType } from '../codec/index.ts'
import type { SpaceReplica } from '../space/index.ts'
import type { AuthorKey, EntryId, SpaceKey } from '../ids/index.ts'
import type { ForkProof } from '../store/index.ts'
import type { KeyPair } from '../identity/index.ts'
import type { Relay } from './relay.ts'

/** The spaces a node holds, as the engine reads them. */
export interface SpaceDirectory {
  get (key: SpaceKey): SpaceReplica | undefined
  all (): Iterable<SpaceReplica>
}

/** A message a part of the engine decided to send: the engine queues it and drain() encodes it. */
export interface Send { readonly peer: AuthorKey, readonly msg: Message }

export interface Outbound { readonly peer: AuthorKey, readonly type: MessageType, readonly bytes: Uint8Array }

export type SyncEvent =
  | {
    /**
     * `count` entries were stored. `entries` lists them all, but when the event waited for the store's sync: then
     * only those the driver's listeners read (net/sync-driver.ts, heldEntries).
     */
    readonly type: 'stored', readonly space: SpaceKey, readonly count: number, readonly entries: readonly Entry[],
    readonly from: AuthorKey | 'local'
    /** From 'local' but peers' entries: held pending, let through by a retry or by a local write. */
    readonly released?: true
  }
  | { readonly type: 'fork', readonly space: SpaceKey, readonly proof: ForkProof }
  | {
    readonly type: 'misbehaviour', readonly peer: AuthorKey, readonly reason: string, readonly points: number,
    readonly score: number
  }
  | { readonly type: 'disconnect', readonly peer: AuthorKey, readonly reason: string }
  /** A status record newer than what we held was stored (ours or a peer's). */
  | {
    readonly type: 'status', readonly space: SpaceKey, readonly author: AuthorKey, readonly from: AuthorKey | 'local'
  }
  /** A peer answered a join of ours (decision 18): 'redeemed', 'waiting', or why the issuer refused it. */
  | {
    readonly type: 'join-answer', readonly space: SpaceKey, readonly join: EntryId, readonly from: AuthorKey,
    readonly outcome: string, readonly detail: string
  }
  /** A peer showed us a revoke that takes our role in a space (decision 18): local writes there are refused. */
  | { readonly type: 'revoked', readonly space: SpaceKey, readonly by: AuthorKey }

/** Whether `peer` holds a role in the space now (members are served; strangers are not). */
export function isMember (replica: SpaceReplica, peer: AuthorKey): boolean {
  return replica.acl.currentRole(peer) !== null
}

export interface SyncInit {
  readonly keyPair: KeyPair
  readonly spaces: SpaceDirectory
  /** How new entries travel (relay.ts); absent: AnnounceRelay, the protocol. Benchmarks inject naive flooding here. */
  readonly relay?: Relay | undefined
  /**
   * Bytes handed out by drain() for `peer` that its transport has not yet
   * written (absent: 0, a transport that writes at once). With the engine's
   * own undrained bytes, bounded by SERVE_QUEUE_BYTES_PER_PEER_MAX.
   */
  readonly backlog?: (peer: AuthorKey) => number
}
