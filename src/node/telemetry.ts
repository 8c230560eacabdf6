import os from 'node:os'
import { fromHex, newerStatus } from '../codec/index.ts'
import type { SignedStatus, StatusStamp } from '../codec/index.ts'
import { peerIdOf } from '../identity/index.ts'
import { authorKeyOf } from '../ids/index.ts'
import type { SpaceReplica } from '../space/index.ts'
import type { AuthorKey, SpaceKey } from '../ids/index.ts'
import { buildNetworkMap, decodeReport, DEFAULT_THRESHOLDS, StatusPublisher } from '../telemetry/index.ts'
import type { AlertThresholds, NetworkMap, NodeReport, StatusSample, TelemetryHost } from '../telemetry/index.ts'
import { SpaceError } from '../space/index.ts'
import type { DeploymentSpaces } from './deployment.ts'

/**
 * The node's telemetry: its publisher (what it says of itself, into every
 * status space of its deployment), and the newest report of every member,
 * decoded once per record and kept here, from which the network map is
 * drawn on demand.
 */
export interface NodeTelemetryInit {
  readonly self: AuthorKey
  /** The deployment's status spaces held here (D/deployment.json). */
  readonly deployment: DeploymentSpaces
  readonly thresholds?: Partial<AlertThresholds> | undefined
  /** What the publisher reads of the node; status records stored are counted here (see stored()). */
  readonly host: Omit<TelemetryHost, 'members' | 'publish' | 'statusCounters'> & { statusMessagesIn: () => number }
  replica (key: SpaceKey): SpaceReplica | undefined
  publish (space: SpaceKey, body: Record<string, unknown>): void
  /**
   * A member's newer report names where it listens, and the spaces it has folders in (peer exchange:
   * node/peer-exchange.ts); `atStart`: read from the store as the node starts, not just received. Absent: ignored.
   */
  onMemberAddrs?: ((author: AuthorKey, addrs: readonly string[], atStart: boolean, folders: readonly string[]) => void)
    | undefined
}

interface Known {
  /** The record's clock and id: the one shown is the one every replica keeps (codec newerStatus). */
  readonly stamp: StatusStamp
  readonly report: NodeReport
  readonly problems: readonly string[]
}

export class NodeTelemetry {
  readonly deployment: DeploymentSpaces
  readonly #init: NodeTelemetryInit
  readonly #publisher: StatusPublisher
  readonly #known = new Map<string, Known>()
  readonly thresholds: AlertThresholds
  /**
   * Deployment spaces this node has published into (a joiner becomes a member only once the inviter's invite
   * arrives).
   */
  readonly #publishedInto = new Set<SpaceKey>()
  /** Status records from peers stored so far (newer than what we held). */
  #statusStored = 0
  #started = false

  constructor (init: NodeTelemetryInit) {
    this.#init = init
    this.deployment = init.deployment
    this.thresholds = { ...DEFAULT_THRESHOLDS, ...init.thresholds }
    this.#publisher = new StatusPublisher({
      ...init.host,
      members: () => this.#members().size,
      statusCounters: () => ({ messagesIn: init.host.statusMessagesIn(), stored: this.#statusStored }),
      publish: body => {
        for (const key of this.deployment.keys) {
          const replica = init.replica(key)
          if (replica === undefined || replica.acl.currentRole(init.self) === null) continue
          try {
            init.publish(key, body)
            this.#publishedInto.add(key)
          } catch (err) {
            // Refused (our role changed under us): the next period tries again.
            if (!(err instanceof SpaceError)) throw err
          }
        }
      }
    }, { thresholds: this.thresholds })
  }

  start (): void {
    for (const key of this.deployment.keys) {
      for (const s of this.#init.replica(key)?.statuses() ?? []) {
        this.#learn(authorKeyOf(s.author), s, true)
      }
    }
    this.#publisher.start()
    this.#started = true
  }

  stop (): void {
    this.#started = false
    this.#publisher.stop()
  }

  /** What this node holds changed (it left a space): its report says so now, not a period later (once started). */
  holdingsChanged (): void {
    if (this.#started) this.#publisher.publishNow()
  }

  /** A deployment space was created or joined: publish into it now. */
  joined (key: SpaceKey): void {
    this.deployment.add(key)
    // Before start, start publishes into it; after stop, the store may be closed (a join outliving the stop).
    if (this.#started) this.#publisher.publishNow()
  }

  /** Entries arrived: in a deployment space we just became a member of (the invite arrived), publish at once. */
  entriesStored (space: SpaceKey): void {
    // Peers' entries are stored until the network quiesces, after telemetry stopped: nothing is published then.
    if (!this.#started || !this.deployment.has(space) || this.#publishedInto.has(space)) return
    if (this.#init.replica(space)?.acl.currentRole(this.#init.self) !== null) this.#publisher.publishNow()
  }

  /** A status record was stored (ours, or from a peer): decode it once, here. */
  stored (space: SpaceKey, author: AuthorKey, from: string): void {
    if (from !== 'local') this.#statusStored++
    if (!this.deployment.has(space)) return
    const s = this.#init.replica(space)?.status(author)
    if (s !== undefined) this.#learn(author, s)
  }

  get periodMs (): number { return this.#publisher.periodMs }

  get alerts (): NodeReport['alerts'] { return this.#publisher.alerts }

  /** This node's own report as last published (as others read it). */
  get report (): NodeReport | undefined { return this.#publisher.last }

  network (nowMs: number): NetworkMap {
    const members = this.#members()
    members.add(this.#init.self)
    const samples: StatusSample[] = [...members].map(author => {
      const k = this.#known.get(author)
      const own = author === this.#init.self ? this.#publisher.last : undefined
      return {
        peerId: peerIdOf(fromHex(author)),
        // Our own age is that of our last publication: a node whose publishing stalled sees itself go stale too.
        wallMs: own !== undefined
          ? Math.max(k?.stamp.clock.wallMs ?? 0, this.#publisher.lastPublishMs)
          : k?.stamp.clock.wallMs ?? null,
        report: own ?? (k === undefined ? null : this.#membersClaims(author, k.report)),
        problems: own !== undefined ? [] : k?.problems ?? []
      }
    })
    return buildNetworkMap(samples, peerIdOf(fromHex(this.#init.self)), nowMs)
  }

  /**
   * A member's record, if it is the one to show: the one every replica keeps (newerStatus: of two with one clock, which
   * a member may sign, the higher id). Strictly newer clocks alone left a node showing the first of two it took, while
   * its replica and every other node held the other (a review's probe).
   */
  #learn (author: AuthorKey, record: SignedStatus, atStart = false): void {
    if (!newerStatus(record, this.#known.get(author)?.stamp)) return
    const { report, problems } = decodeReport(record.body, record.clock.wallMs)
    this.#known.set(author, { stamp: { clock: record.clock, id: record.id }, report, problems })
    if (author === this.#init.self || report.addrs.length === 0) return
    this.#init.onMemberAddrs?.(author, report.addrs, atStart, report.folders.map(f => f.space))
  }

  /**
   * A member's report, less its claims about spaces held here whose ACL does not list it: a report describes its
   * author, and a node outside a space holds none of it to count (nor may it speak for its members or its folder).
   * Decided here, by the ACL every member holds, not by the page; of spaces not held here nobody here can judge.
   */
  #membersClaims (author: AuthorKey, report: NodeReport): NodeReport {
    const outside = (space: string): boolean => {
      const replica = this.#init.replica(space as SpaceKey)
      return replica !== undefined && replica.acl.currentRole(author) === null
    }
    if (!report.spaces.some(s => outside(s.id)) && !report.folders.some(f => outside(f.space))) return report
    const spaces = report.spaces.filter(s => !outside(s.id))
    return { ...report, spaces, folders: report.folders.filter(f => !outside(f.space)) }
  }

  /** Members of every deployment space (author keys, hex). */
  #members (): Set<AuthorKey> {
    const out = new Set<AuthorKey>()
    for (const key of this.deployment.keys) {
      for (const m of this.#init.replica(key)?.aclList() ?? []) if (m.role !== null) out.add(m.member)
    }
    return out
  }
}

export const HOST_NAME = os.hostname()
