import type { EventEmitter } from 'node:events'
import { isAuthorKey, keyBytes } from '../ids/index.ts'
import { ACL_TYPES, bytesEqual } from '../codec/index.ts'
import type { Entry } from '../codec/index.ts'
import { peerIdOf } from '../identity/index.ts'
import type { SpaceKey } from '../ids/index.ts'
import type { SyncEvent } from '../sync/index.ts'
import { isLeaveNotice } from '../space/index.ts'
import type { FolderStatus } from '../files/index.ts'
import type { NetworkMap } from '../telemetry/index.ts'
import type { Folders } from './folders.ts'
import type { JoinWaits } from './join-wait.ts'
import type { KnownPeers } from './known-peers.ts'
import type { MisbehaviourLog } from './misbehaviour-log.ts'
import type { NodeLog } from './node-log.ts'
import type { OwnFeedWatch } from './own-feed.ts'
import type { OwnJoins } from './own-joins.ts'
import type { SpaceSet } from './space-set.ts'
import type { NodeTelemetry } from './telemetry.ts'

export interface NodeEvents {
  stored: [{ space: SpaceKey, count: number, from: string }]
  /**
   * The entries themselves, for programs embedding a node (not sent on the API's event stream). A run stored while
   * nobody listened may be listed in part when its event waited for a sync meanwhile (storedEntriesRead).
   */
  entries: [{ space: SpaceKey, entries: readonly Entry[], from: string }]
  /**
   * A group commit of live data writes (kvPutGrouped and the like: the API's writes) was made, with `writes` of
   * them. For programs embedding a node (not sent on the API's event stream): the daemon lets V8's young
   * generation grow while big groups come (src/cli/young-generation.ts).
   */
  grouped: [{ space: SpaceKey, writes: number }]
  fork: [{ space: SpaceKey, author: string }]
  /** A member said its node left a space held here (its leave notice came: space/leave-notice.ts); a peer id. */
  left: [{ space: SpaceKey, member: string }]
  misbehaviour: [{ peer: string, reason: string, points: number, score: number, atMs: number }]
  disconnect: [{ peer: string, reason: string, atMs: number }]
  /** A shared folder's progress: during a transfer every half second, and after each pass. */
  folder: [{ space: SpaceKey, status: FolderStatus }]
  /**
   * The network map changed (a node's status arrived, a node went down or
   * came back): its summary; GET /v1/net for the whole map.
   */
  network: [{ atMs: number, summary: NetworkMap['summary'] }]
  /**
   * Something the operator should know (the daemon prints it on stderr):
   * e.g. peers gave back entries of our own feed (decision 15).
   */
  notice: [{ atMs: number, message: string }]
}

interface NodeEventHandlerInit {
  /** Where the node's own events go (the Node itself). */
  readonly emitter: EventEmitter<NodeEvents>
  readonly spaces: SpaceSet
  readonly folders: Folders
  readonly telemetry: NodeTelemetry
  readonly ownFeeds: OwnFeedWatch
  readonly joinWaits: JoinWaits
  readonly knownPeers: KnownPeers
  /** The members changed: peers that are members of no space here any more leave peers.json and are not redialled. */
  readonly forgetNonMembers: () => void
  readonly misbehaviour: MisbehaviourLog
  readonly log: NodeLog
  /** A join or a redemption was stored: the deployment's owner may promote the new member. */
  readonly afterJoin: (space: SpaceKey) => void
  /** Our own joins kept until they take effect: told what was stored, and the issuers' answers. */
  readonly ownJoins: Pick<OwnJoins, 'stored' | 'answered'>
}

/**
 * The entries of a `stored` event the handler below reads, besides their
 * count: joins and redemptions (logged; the owner may promote the new
 * member), this node's own (a restore noticed: own-feed.ts), and all of
 * them while the node has 'entries' listeners. What the durable gate keeps
 * of an event it holds until its sync (net/sync-driver.ts, heldEntries).
 */
export function storedEntriesRead (
  publicKey: Uint8Array, emitter: EventEmitter<NodeEvents>
): (entry: Entry) => boolean {
  return e => e.body.t === 'join' || e.body.t === 'invite.redeem' || bytesEqual(e.author, publicKey) ||
    emitter.listenerCount('entries') > 0
}

/**
 * What the node does with each event of the sync engine (the sync driver
 * hands them here after it acted on them): wakes the folders and the
 * telemetry, settles join waits, logs misbehaviour, and emits the node's
 * own events, with peers named by their peer ids.
 */
export class NodeEventHandler {
  readonly #init: NodeEventHandlerInit
  /** A prune is queued: the ACL changes of one turn of the event loop (a catch-up's many runs) make one. */
  #pruneQueued = false

  constructor (init: NodeEventHandlerInit) {
    this.#init = init
  }

  handle (ev: SyncEvent): void {
    const { emitter, telemetry, joinWaits, misbehaviour, log } = this.#init
    const atMs = Date.now()
    switch (ev.type) {
      case 'stored': this.#stored(ev, atMs); return
      case 'status': {
        telemetry.stored(ev.space, ev.author, ev.from)
        // Data spaces only: a leave notice is never said in a deployment's status space (it is not left so).
        if (ev.from === 'local' || telemetry.deployment.has(ev.space)) return
        // The record just stored is a notice (no look at its writes since: a peer could make that cost a scan per
        // record). Logged and emitted at most as often as the log lets a member's notices through.
        if (!isLeaveNotice(this.#init.spaces.get(ev.space)?.status(ev.author))) return
        const member = peerName(ev.author)
        const space = ev.space
        if (log.memberLeft(space, this.#spaceName(space), member)) emitter.emit('left', { space, member })
        return
      }
      case 'fork': {
        const author = peerName(ev.proof.author)
        log.fork(ev.space, this.#spaceName(ev.space), author)
        emitter.emit('fork', { space: ev.space, author })
        this.#membersChanged() // the fork's cut may have ended the author's last role here
        return
      }
      case 'join-answer': {
        const told = joinWaits.answered(ev.space, ev.join, ev.from, ev.outcome, ev.detail)
        this.#init.ownJoins.answered(ev.space, ev.join, ev.from, { reason: ev.outcome, detail: ev.detail }, told)
        return
      }
      case 'revoked': return // the replica refuses our writes from now on; `space list` shows no role
      case 'misbehaviour': {
        const { reason, points, score } = ev
        const rec = { peer: peerName(ev.peer), reason, points, score, atMs, disconnected: false }
        misbehaviour.add(rec)
        log.misbehaviour(rec.peer, reason, points, score)
        emitter.emit('misbehaviour', rec)
        return
      }
      case 'disconnect': {
        const rec = { peer: peerName(ev.peer), reason: ev.reason, points: 0, score: 0, atMs, disconnected: true }
        misbehaviour.add(rec)
        log.banned(rec.peer, rec.reason) // the engine disconnects a peer only for its score, and bans it
        emitter.emit('disconnect', rec)
      }
    }
  }

  #stored (ev: Extract<SyncEvent, { type: 'stored' }>, atMs: number): void {
    const { emitter, folders, telemetry, ownFeeds } = this.#init
    const from = ev.from === 'local' ? 'local' : peerName(ev.from)
    emitter.emit('stored', { space: ev.space, count: ev.count, from })
    // Peers' entries let out of pending come as 'local' (released): a folder waiting for them looks again at once.
    if (ev.released === true) folders.changed(ev.space)
    if (ev.from !== 'local') {
      folders.changed(ev.space)
      telemetry.entriesStored(ev.space)
      const notice = ownFeeds.stored(ev.space, this.#spaceName(ev.space), ev.entries, from)
      if (notice !== undefined) emitter.emit('notice', { atMs, message: notice })
    }
    this.#init.joinWaits.stored(ev.space)
    this.#init.ownJoins.stored(ev.space)
    const inDeployment = this.#init.telemetry.deployment.has(ev.space)
    for (const e of ev.entries) {
      if (e.body.t !== 'join') continue
      this.#init.log.joined(ev.space, this.#spaceName(ev.space), peerIdOf(e.author), inDeployment)
    }
    if (ev.entries.some(e => e.body.t === 'join' || e.body.t === 'invite.redeem')) {
      setImmediate(() => { this.#init.afterJoin(ev.space) })
    }
    if (emitter.listenerCount('entries') > 0) emitter.emit('entries', { space: ev.space, entries: ev.entries, from })
    this.#init.knownPeers.confirm()
    // Only an ACL change ends a membership (a revoke, an invite's revoke dropping its joins): other runs cost nothing.
    if (ev.entries.some(e => ACL_TYPES.includes(e.body.t))) this.#membersChanged()
  }

  /** A revoked member is forgotten as a member of a space left is (leave.ts): not dialled at every start for good. */
  #membersChanged (): void {
    if (this.#pruneQueued) return
    this.#pruneQueued = true
    setImmediate(() => {
      this.#pruneQueued = false
      this.#init.forgetNonMembers()
    })
  }

  #spaceName (space: SpaceKey): string {
    const replica = this.#init.spaces.get(space)
    return replica === undefined ? space : this.#init.spaces.nameOf(replica)
  }
}

/** A peer by its libp2p peer id when it is an author key; anything else as it came. */
function peerName (authorHex: string): string {
  return isAuthorKey(authorHex) ? peerIdOf(keyBytes(authorHex)) : authorHex
}
