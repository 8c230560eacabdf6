import { LogLimiter } from '../log/index.ts'
import type { Logger } from '../log/index.ts'
import type { FolderStatus } from '../files/index.ts'
import type { AlertReport } from '../telemetry/index.ts'

/** Spaces named on a connection's line, at most (a peer may share many). */
const SPACES_NAMED_MAX = 8
/** Connection lines per peer a minute: a peer reconnecting in a loop is told once a minute with a count. */
const CONNECTION_LINES_PER_PEER = 4
/** Folder errors logged one by one, per space a minute; past that, one line says how many more. */
const FOLDER_ERROR_LINES = 10

interface NodeLogInit {
  /** Absent: the node logs nothing (a library's default; `samepage start` gives it one). */
  readonly logger?: Logger | undefined
  /** The spaces (names) a peer holds a role in here. */
  readonly spacesOf: (peerId: string) => readonly string[]
  readonly now?: () => number
}

/**
 * What the node tells its operator, one line per event (a join, a
 * connection and its end, a ban, a fork, a conflict, a folder error, a relay
 * reservation, an alert), named by peer id and space. Anything a peer can
 * cause again and again goes through a LogLimiter: once per peer and reason
 * a minute, with a count of what was held back, and a cap for all peers.
 */
export class NodeLog {
  readonly #log: Logger | undefined
  readonly #init: NodeLogInit
  readonly #now: () => number
  readonly #peerLimiter = new LogLimiter({ perKey: CONNECTION_LINES_PER_PEER })
  readonly #misbehaviourLimiter = new LogLimiter()
  readonly #leaveLimiter = new LogLimiter()
  readonly #folderLimiter = new LogLimiter({ perKey: FOLDER_ERROR_LINES })
  readonly #tickLimiter = new LogLimiter()
  /** Peers whose connection was logged and not yet its end (a session replaced by another is one connection). */
  readonly #connected = new Set<string>()
  readonly #folders = new Map<string, { conflicts: number, errors: Set<string> }>()
  #alerts = new Map<string, AlertReport>()

  constructor (init: NodeLogInit) {
    this.#init = init
    this.#log = init.logger
    this.#now = init.now ?? Date.now
  }

  connected (peer: string, direction: string): void {
    if (this.#log === undefined || this.#connected.has(peer)) return
    this.#connected.add(peer)
    const spaces = this.#init.spacesOf(peer).slice(0, SPACES_NAMED_MAX)
    this.#peerLine(peer, 'peer connected', { direction, spaces })
  }

  disconnected (peer: string): void {
    if (this.#log === undefined || !this.#connected.delete(peer)) return
    this.#peerLine(peer, 'peer disconnected', {})
  }

  /** `deployment`: a join of the deployment's status space, which follows every join of the deployment's owner. */
  joined (space: string, spaceName: string, peer: string, deployment = false): void {
    if (deployment) this.#log?.debug({ peer, space, spaceName }, 'member joined the deployment')
    else this.#log?.info({ peer, space, spaceName }, 'member joined')
  }

  /**
   * A member's leave notice arrived: logged, and true if the node's `left` event should go out too. Limited per
   * member and space (it may say it left and came back many times), with or without a logger.
   */
  memberLeft (space: string, spaceName: string, peer: string): boolean {
    const ok = this.#leaveLimiter.allow(`${space} ${peer}`, this.#now())
    if (ok === undefined) return false
    this.#log?.info({ peer, space, spaceName, ...repeated(ok.held) }, 'member left')
    return true
  }

  banned (peer: string, reason: string): void {
    if (this.#log === undefined) return
    const ok = this.#misbehaviourLimiter.allow(`ban ${peer}`, this.#now())
    if (ok !== undefined) this.#log.warn({ peer, reason, ...repeated(ok.held) }, 'peer banned')
  }

  misbehaviour (peer: string, reason: string, points: number, score: number): void {
    if (this.#log === undefined) return
    const ok = this.#misbehaviourLimiter.allow(`${peer} ${reason}`, this.#now())
    if (ok !== undefined) this.#log.warn({ peer, reason, points, score, ...repeated(ok.held) }, 'peer misbehaved')
  }

  fork (space: string, spaceName: string, author: string): void {
    if (this.#log === undefined) return
    const ok = this.#misbehaviourLimiter.allow(`fork ${space} ${author}`, this.#now())
    if (ok !== undefined) this.#log.warn({ peer: author, space, spaceName, ...repeated(ok.held) }, 'feed forked')
  }

  /** A folder's progress: a rise in its conflicts, and each error not seen in its last status, once. */
  folder (space: string, spaceName: string, status: FolderStatus): void {
    if (this.#log === undefined) return
    const seen = this.#folders.get(space) ?? { conflicts: 0, errors: new Set<string>() }
    this.#folders.set(space, seen)
    // A rise held back by the limiter is told with the next one (seen.conflicts stays at the last told).
    if (status.conflicts <= seen.conflicts) seen.conflicts = status.conflicts
    else if (this.#folderLimiter.allow(`${space} conflicts`, this.#now()) !== undefined) {
      this.#log.warn({ space, spaceName, conflicts: status.conflicts, new: status.conflicts - seen.conflicts },
        'folder conflict')
      seen.conflicts = status.conflicts
    }
    const errors = new Set<string>()
    let unlogged = 0
    for (const e of status.errors) {
      const key = `${e.path}\n${e.error}`
      errors.add(key)
      if (seen.errors.has(key)) continue
      // A peer can share many files this disk refuses: a few lines a minute, then how many more.
      if (this.#folderLimiter.allow(space, this.#now()) === undefined) unlogged++
      else this.#log.warn({ space, spaceName, path: e.path, error: e.error }, 'folder error')
    }
    seen.errors = errors
    if (unlogged > 0) {
      const more = { space, spaceName, errors: unlogged, see: `samepage folder status ${spaceName}` }
      if (this.#folderLimiter.allow(`${space} more`, this.#now()) !== undefined) this.#log.warn(more, 'folder errors')
    }
  }

  /** This node's open alerts after a publication: each newly open one, and each one cleared, once. */
  alerts (open: readonly AlertReport[]): void {
    if (this.#log === undefined) return
    const next = new Map(open.map(a => [`${a.kind} ${a.subject}`, a]))
    for (const [key, a] of next) {
      if (!this.#alerts.has(key)) this.#log.warn({ alert: a.kind, subject: a.subject, detail: a.detail }, 'alert')
    }
    for (const [key, a] of this.#alerts) {
      if (!next.has(key)) this.#log.info({ alert: a.kind, subject: a.subject }, 'alert cleared')
    }
    this.#alerts = next
  }

  /**
   * A periodic task's tick failed (the alert check, a publication): the next tick comes all the same. Once a
   * minute per task and error code, with how many were held back: at the open-file limit each second's fails.
   */
  tickFailed (what: string, err: unknown): void {
    if (this.#log === undefined) return
    const code = (err as { code?: unknown } | null)?.code
    const ok = this.#tickLimiter.allow(`${what} ${String(code)}`, this.#now())
    if (ok === undefined) return
    const error = err instanceof Error ? err.message : String(err)
    this.#log.warn({ task: what, error, ...repeated(ok.held) }, 'periodic task failed; it runs again')
  }

  /** A circuit-relay reservation made on a member relay (the relay's peer id, the address it gives us). */
  relayReservation (relay: string, addr: string): void {
    if (this.#log === undefined) return
    this.#peerLine(relay, 'relay reservation', { addr })
  }

  #peerLine (peer: string, msg: string, fields: object): void {
    const ok = this.#peerLimiter.allow(peer, this.#now())
    if (ok !== undefined) this.#log?.info({ peer, ...fields, ...repeated(ok.held) }, msg)
  }
}

/** `repeated`: lines of the same kind held back since the last one (absent when none). */
function repeated (held: number): { repeated?: number } {
  return held > 0 ? { repeated: held } : {}
}
