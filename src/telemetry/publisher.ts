import { alertsChanged, evaluateAlerts } from './alerts.ts'
import type { AlertThresholds } from './alerts.ts'
import { outOfFilesNow, probeDisk, probeHost } from './probes.ts'
import { ALERT_SPACING_MS, jittered, statusPeriodMs } from './period.ts'
import { decodeReport, encodeReport } from './report.ts'
import type { AlertReport, FolderReport, LinkReport, MisbehaviourReport, NodeReport, SpaceReport } from './report.ts'

/**
 * The local half of telemetry: every period (jittered, growing with the
 * network, see period.ts) it gathers what the node knows of itself, and
 * publishes it as a status record; every second it checks the alert
 * thresholds, and publishes at once when an alert opens or closes.
 */
interface HostLink {
  readonly peer: string
  readonly rttMs: number | null
  readonly bytesIn: number
  readonly bytesOut: number
  /** The member relaying this link, or null for a direct one. */
  readonly relayedBy: string | null
}

/** The counters at the previous publication, for rates. */
interface Counters {
  readonly atMs: number
  readonly bytesIn: number
  readonly bytesOut: number
  readonly links: ReadonlyMap<string, { readonly bytesIn: number, readonly bytesOut: number }>
  readonly status: { readonly messagesIn: number, readonly stored: number }
}

export interface TelemetryHost {
  readonly name: string
  readonly version: string
  readonly startedMs: number
  /** Directories whose disks are watched: the data directory and every shared folder. */
  disks (): readonly string[]
  /** Connected peers, with the bytes moved since each connection opened. */
  links (): readonly HostLink[]
  spaces (): readonly SpaceReport[]
  folders (): readonly FolderReport[]
  /** Bytes in and out since start, all protocols. */
  traffic (): { readonly bytesIn: number, readonly bytesOut: number }
  misbehaviour (): readonly MisbehaviourReport[]
  /** Where members can reach this node (peer exchange): its listen addresses as net/peer-exchange.ts publishes them. */
  addrs (): readonly string[]
  /** How many nodes publish status in the deployment (its members). */
  members (): number
  /** Status messages received, and status records stored, since start: their ratio is what each record costs us. */
  statusCounters (): { readonly messagesIn: number, readonly stored: number }
  publish (body: Record<string, unknown>): void
  /** This node's open alerts, when they change (at start, then on each check): the node logs them. */
  alertsChanged?: (alerts: readonly AlertReport[]) => void
  /**
   * A check or a publication failed (`what` it was doing): that tick is skipped and the next one comes all the
   * same; the node logs it (once a spell). Absent: ignored.
   */
  tickFailed?: (what: string, err: unknown) => void
}

interface PublisherOptions {
  readonly thresholds: AlertThresholds
  readonly now?: () => number
  readonly random?: () => number
}

const ALERT_CHECK_MS = 1000

export class StatusPublisher {
  readonly #host: TelemetryHost
  readonly #thresholds: AlertThresholds
  readonly #now: () => number
  readonly #random: () => number
  #alerts: AlertReport[] = []
  #periodMs: number
  #copies = 1
  #publishTimer: NodeJS.Timeout | undefined
  #alertTimer: NodeJS.Timeout | undefined
  #lastPublishMs = 0
  /**
   * Between start and stop: a publication asked for after stop (a peer's entry admitting us while the node stops)
   * would re-arm the period timer, which then publishes into the closed store, period after period.
   */
  #running = false
  /** An alert opened or closed since the last publication: published at the first check the spacing allows. */
  #alertsUnpublished = false
  #last: NodeReport | undefined
  #prev: Counters | undefined
  readonly #lostSince = new Map<string, number>()
  readonly #linked = new Set<string>()
  readonly #progress = new Map<string, { needBytes: number, needFiles: number, lastProgressMs: number }>()

  constructor (host: TelemetryHost, opts: PublisherOptions) {
    this.#host = host
    this.#thresholds = opts.thresholds
    this.#now = opts.now ?? Date.now
    this.#random = opts.random ?? Math.random
    this.#periodMs = statusPeriodMs(host.members(), 1)
  }

  get periodMs (): number { return this.#periodMs }
  get alerts (): readonly AlertReport[] { return this.#alerts }
  /** The last report published, as every other node reads it (rounded and cut as on the wire). */
  get last (): NodeReport | undefined { return this.#last }
  /** When it was published (0: not yet). */
  get lastPublishMs (): number { return this.#lastPublishMs }

  start (): void {
    this.#running = true
    const now = this.#now()
    this.#alerts = evaluateAlerts(this.#facts(now), this.#thresholds, [], now)
    this.#host.alertsChanged?.(this.#alerts)
    this.publishNow()
    this.#alertTimer = setInterval(() => {
      if (!this.#running) return
      try {
        this.#checkAlerts()
      } catch (err) {
        this.#host.tickFailed?.('checking alerts', err)
      }
    }, ALERT_CHECK_MS)
    this.#alertTimer.unref()
  }

  stop (): void {
    this.#running = false
    clearTimeout(this.#publishTimer)
    clearInterval(this.#alertTimer)
  }

  /**
   * Gathers and publishes now, and starts the period again from here. A failure is this publication's (told to
   * tickFailed), never an exception out of a timer, nor out of the command that asked for it (a join published).
   * Not started, or stopped: nothing (the store may be closed; start publishes at once).
   */
  publishNow (): void {
    if (!this.#running) return
    clearTimeout(this.#publishTimer)
    try {
      const body = encodeReport(this.#report())
      this.#host.publish(body)
      this.#last = decodeReport(body).report
      this.#lastPublishMs = this.#now()
      this.#alertsUnpublished = false
    } catch (err) {
      this.#host.tickFailed?.('publishing this node\'s status', err)
    } finally {
      // Stopped while publishing (a host callback stopped the node): no next period.
      if (this.#running) {
        this.#publishTimer = setTimeout(() => this.publishNow(), jittered(this.#periodMs, this.#random()))
        this.#publishTimer.unref()
      }
    }
  }

  #checkAlerts (): void {
    const now = this.#now()
    const next = evaluateAlerts(this.#facts(now), this.#thresholds, this.#alerts, now)
    const changed = alertsChanged(this.#alerts, next)
    this.#alerts = next
    if (changed) this.#host.alertsChanged?.(next)
    // A change too soon after a publication is remembered, not dropped: the next check compares with the alerts
    // just taken, sees no change, and the change would otherwise wait a whole period (100 s at 10,000 nodes).
    if (changed) this.#alertsUnpublished = true
    if (this.#alertsUnpublished && now - this.#lastPublishMs >= ALERT_SPACING_MS) this.publishNow()
  }

  #facts (now: number): Parameters<typeof evaluateAlerts>[0] {
    const host = probeHost()
    const connected = new Set(this.#host.links().map(l => l.peer))
    for (const p of connected) { this.#linked.add(p); this.#lostSince.delete(p) }
    for (const p of this.#linked) if (!connected.has(p) && !this.#lostSince.has(p)) this.#lostSince.set(p, now)
    const waiting: { name: string, needBytes: number, needFiles: number, lastProgressMs: number }[] = []
    for (const f of this.#host.folders()) {
      const before = this.#progress.get(f.space)
      const needs = f.needBytes > 0 || f.needFiles > 0
      if (!needs) { this.#progress.delete(f.space); continue }
      const moved = before === undefined || f.needBytes < before.needBytes || f.needFiles < before.needFiles ||
        f.bytesPerSecond > 0
      const p = { needBytes: f.needBytes, needFiles: f.needFiles, lastProgressMs: moved ? now : before.lastProgressMs }
      this.#progress.set(f.space, p)
      waiting.push({ name: f.name, ...p })
    }
    return {
      temperatureC: host.temperatureC,
      disks: this.#host.disks().flatMap(d => { const s = probeDisk(d); return s === null ? [] : [{ path: d, ...s }] }),
      memory: host.memory,
      outOfFiles: outOfFilesNow(),
      unreachable: [...this.#lostSince].map(([peer, sinceMs]) => ({ peer, sinceMs })),
      waiting
    }
  }

  #report (): NodeReport {
    const now = this.#now()
    const host = probeHost()
    const traffic = this.#host.traffic()
    const links = this.#host.links()
    const status = this.#host.statusCounters()
    const prev = this.#prev
    const dt = prev === undefined ? 0 : Math.max(1, now - prev.atMs) / 1000
    const rate = (nowBytes: number, before: number | undefined): number =>
      prev === undefined || before === undefined ? 0 : Math.max(0, nowBytes - before) / dt
    const linkReports: LinkReport[] = links.map(l => {
      const b = prev?.links.get(l.peer)
      const inBps = rate(l.bytesIn, b?.bytesIn)
      const link = { peer: l.peer, rttMs: l.rttMs, inBps, outBps: rate(l.bytesOut, b?.bytesOut) }
      return l.relayedBy === null ? link : { ...link, relayedBy: l.relayedBy }
    }).sort((a, b) => (b.inBps + b.outBps) - (a.inBps + a.outBps))
    if (prev !== undefined) {
      const stored = status.stored - prev.status.stored
      const received = status.messagesIn - prev.status.messagesIn
      // Smoothed: one quiet or noisy period does not swing everybody's period.
      if (stored > 0) this.#copies = 0.7 * this.#copies + 0.3 * Math.max(1, received / stored)
    }
    this.#periodMs = statusPeriodMs(this.#host.members(), this.#copies)
    this.#prev = {
      atMs: now,
      bytesIn: traffic.bytesIn,
      bytesOut: traffic.bytesOut,
      links: new Map(links.map(l => [l.peer, { bytesIn: l.bytesIn, bytesOut: l.bytesOut }])),
      status
    }
    const dataDisk = this.#host.disks()[0]
    return {
      name: this.#host.name,
      version: this.#host.version,
      startedMs: this.#host.startedMs,
      periodMs: this.#periodMs,
      load: host.load,
      cpus: host.cpus,
      memory: host.memory,
      disk: dataDisk === undefined ? null : probeDisk(dataDisk),
      temperatureC: host.temperatureC,
      links: linkReports,
      spaces: this.#host.spaces(),
      folders: this.#host.folders(),
      traffic: {
        bytesIn: traffic.bytesIn,
        bytesOut: traffic.bytesOut,
        inBps: rate(traffic.bytesIn, prev?.bytesIn),
        outBps: rate(traffic.bytesOut, prev?.bytesOut)
      },
      misbehaviour: this.#host.misbehaviour(),
      alerts: this.#alerts,
      addrs: this.#host.addrs()
    }
  }
}
