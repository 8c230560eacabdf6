/**
 * libp2p's own metrics (connections, streams, bytes per protocol, its
 * queues), kept as plain numbers until a scrape reads them: libp2p's
 * `Metrics` interface, without prom-client.
 *
 * Why not `@libp2p/prometheus-metrics`: libp2p takes its metrics object when
 * it is made, so that package loads prom-client at every start, and with it
 * Node's https (TLS) and zlib modules: ~3.5 MB of an idle daemon's
 * memory that nothing uses until something scrapes /metrics. It also keeps
 * its metrics in a module-wide map, so that a second node in one process
 * wrote into the first one's. The API's /metrics loads prom-client at its
 * first scrape and renders `collect()`'s families under the same names,
 * labels and kinds as that package did (api/metrics.ts).
 *
 * The label values come from libp2p itself (its components' names, the
 * protocols this node handles or dials), not from a peer; each family still
 * keeps at most LABELS_PER_FAMILY_MAX of them, and a histogram or summary at
 * most OBSERVATIONS_KEPT_MAX observations between two scrapes.
 */
import { statfs } from 'node:fs/promises'
import { totalmem } from 'node:os'
import type {
  CalculateMetric, Counter, CounterGroup, Histogram, HistogramGroup, Metric, MetricGroup, Metrics,
  MultiaddrConnection, Stream, StopTimer, Summary, SummaryGroup
} from '@libp2p/interface'

export const LABELS_PER_FAMILY_MAX = 1024
export const OBSERVATIONS_KEPT_MAX = 4096

type Libp2pMetricKind = 'gauge' | 'counter' | 'histogram' | 'summary'

/** One metric as a scrape renders it: `values` by label value ('' when it has no label). */
export interface Libp2pMetricFamily {
  readonly name: string
  readonly help: string
  readonly kind: Libp2pMetricKind
  /** The label's name, for a group; absent for a single metric. */
  readonly label?: string
  /** Gauges: the value now; counters: the total since start. */
  readonly values: ReadonlyMap<string, number>
  /** Histograms and summaries: what was observed since the last collect(), [label value, value]. */
  readonly observed: ReadonlyArray<readonly [string, number]>
  /** Histograms: the buckets asked for; summaries: the percentiles and window. */
  readonly options: Readonly<Record<string, unknown>>
}

interface Options {
  readonly label?: string
  readonly help?: string
  readonly calculate?: CalculateMetric<number> | CalculateMetric<Record<string, number>>
  readonly [option: string]: unknown
}

/** What a family holds between scrapes. */
class Family {
  readonly values = new Map<string, number>()
  observed: Array<readonly [string, number]> = []
  readonly name: string
  readonly kind: Libp2pMetricKind
  readonly label: string | undefined
  readonly help: string
  readonly options: Options

  constructor (name: string, kind: Libp2pMetricKind, label: string | undefined, help: string, options: Options) {
    this.name = name
    this.kind = kind
    this.label = label
    this.help = help
    this.options = options
  }

  set (key: string, value: number): void {
    if (!Number.isFinite(value)) return
    if (this.values.has(key) || this.values.size < LABELS_PER_FAMILY_MAX) this.values.set(key, value)
  }

  add (key: string, by: number): void {
    this.set(key, (this.values.get(key) ?? 0) + by)
  }

  observe (key: string, value: number): void {
    if (Number.isFinite(value) && this.observed.length < OBSERVATIONS_KEPT_MAX) this.observed.push([key, value])
  }

  /** Seconds from now until the stop is called, as prom-client's timers measure. */
  timer (done: (seconds: number) => void): StopTimer {
    const start = process.hrtime.bigint()
    return () => { done(Number(process.hrtime.bigint() - start) / 1e9) }
  }
}

/** Bytes sent and received over each protocol (and 'global': every connection), by stream wrapping. */
interface Transfer { sent: number, received: number }

export class Libp2pMetrics implements Metrics {
  readonly #families = new Map<string, Family>()
  readonly #transfer = new Map<string, Transfer>()
  readonly #transferFamily: Family
  readonly #statfsDir: string

  /** `statfsDir`: the file system `nodejs_fs_usage_bytes` reports on (the node's data directory). */
  constructor (init: { statfsDir: string }) {
    this.#statfsDir = init.statfsDir
    // Totals since start, written at each collect (not a calculated counter: that adds what it returns each time).
    this.#transferFamily = this.#family('libp2p_data_transfer_bytes_total', 'counter', true, { label: 'protocol' }) as
      Family
    const memory = (): Record<string, number> => ({ ...process.memoryUsage() })
    this.registerMetricGroup('nodejs_memory_usage_bytes', { label: 'memory', calculate: memory })
    this.registerMetric('nodejs_memory_total_bytes').update(totalmem())
    this.registerMetricGroup('nodejs_fs_usage_bytes', {
      label: 'filesystem',
      calculate: async () => {
        const s = await statfs(this.#statfsDir)
        const total = s.bsize * s.blocks
        const available = s.bsize * s.bavail
        return { total, free: s.bsize * s.bfree, available, used: available / total * 100 }
      }
    })
  }

  /**
   * Every family, calculated ones computed now; the observations since the last call are handed over. A calculated
   * family that fails is left out of this scrape (its error would otherwise fail the whole /metrics).
   */
  async collect (): Promise<Libp2pMetricFamily[]> {
    for (const [name, t] of this.#transfer) {
      this.#transferFamily.set(`${name} sent`, t.sent)
      this.#transferFamily.set(`${name} received`, t.received)
    }
    const out: Libp2pMetricFamily[] = []
    for (const f of this.#families.values()) {
      const calculate = f.options.calculate
      if (calculate !== undefined) {
        try { this.#apply(f, await calculate()) } catch { continue }
      }
      const observed = f.observed
      f.observed = []
      const { name, help, kind, options } = f
      const family = { name, help, kind, values: new Map(f.values), observed, options }
      out.push(f.label === undefined ? family : { ...family, label: f.label })
    }
    return out
  }

  /**
   * A calculated value: a gauge takes it (a label value it no longer returns is dropped: it reports what is now), a
   * counter adds it (as @libp2p/prometheus-metrics did), others observe it.
   */
  #apply (f: Family, result: number | Record<string, number>): void {
    const entries: Array<[string, number]> = typeof result === 'number' ? [['', result]] : Object.entries(result)
    if (f.kind === 'gauge') f.values.clear()
    for (const [key, value] of entries) {
      if (typeof value !== 'number') continue
      if (f.kind === 'gauge') f.set(key, value)
      else if (f.kind === 'counter') { if (value > 0) f.add(key, value) }
      else f.observe(key, value)
    }
  }

  trackMultiaddrConnection (maConn: MultiaddrConnection): void {
    this.#track(maConn, 'global')
  }

  trackProtocolStream (stream: Stream): void {
    if (stream.protocol == null || stream.protocol === '') return
    this.#track(stream, stream.protocol)
  }

  /**
   * Counts what passes a stream's `message` events and `send`s. No `message` listener is added: a stream dispatches
   * what it buffered only once one is there, which would hand the first frames to nobody (libp2p's note).
   */
  #track (stream: MultiaddrConnection | Stream, name: string): void {
    let t = this.#transfer.get(name)
    if (t === undefined) {
      if (this.#transfer.size >= LABELS_PER_FAMILY_MAX / 2) return
      t = { sent: 0, received: 0 }
      this.#transfer.set(name, t)
    }
    const counts = t
    const dispatchEvent = stream.dispatchEvent.bind(stream)
    stream.dispatchEvent = (evt: Event): boolean => {
      if (evt.type === 'message') counts.received += (evt as Event & { data: { byteLength: number } }).data.byteLength
      return dispatchEvent(evt)
    }
    const send = stream.send.bind(stream)
    stream.send = (buf: Parameters<typeof send>[0]): boolean => {
      counts.sent += buf.byteLength
      return send(buf)
    }
  }

  /** libp2p asks for a family by name; a second ask gets the first one's (as a module-wide map gave it). */
  #family (name: string, kind: Libp2pMetricKind, grouped: boolean, options: Options = {}): Family | undefined {
    if (name.trim() === '') throw new Error('A metric needs a name')
    const n = normalized(name)
    const label = grouped || options.label !== undefined ? normalized(options.label ?? name) : undefined
    let f = this.#families.get(n)
    if (f === undefined) {
      f = new Family(n, kind, label, normalized(options.help ?? name), options)
      this.#families.set(n, f)
    } else if (f.kind !== kind || f.label !== label) {
      // The same name asked as another kind or label: kept apart and never collected (one name, one family).
      f = new Family(n, kind, label, '', {})
    }
    return options.calculate === undefined ? f : undefined
  }

  registerMetric = ((name: string, options?: Options): Metric | undefined => {
    const f = this.#family(name, 'gauge', false, options)
    if (f === undefined) return undefined
    return {
      update: v => { f.set('', v) },
      increment: (v = 1) => { f.add('', v) },
      decrement: (v = 1) => { f.add('', -v) },
      reset: () => { f.values.clear() },
      timer: () => f.timer(s => { f.set('', s) })
    }
  }) as Metrics['registerMetric']

  registerMetricGroup = ((name: string, options?: Options): MetricGroup | undefined => {
    const f = this.#family(name, 'gauge', true, options)
    if (f === undefined) return undefined
    return {
      update: values => { for (const [k, v] of Object.entries(values)) if (typeof v === 'number') f.set(k, v) },
      increment: values => { for (const [k, v] of Object.entries(values)) f.add(k, by(v)) },
      decrement: values => { for (const [k, v] of Object.entries(values)) f.add(k, -by(v)) },
      reset: () => { f.values.clear() },
      timer: key => f.timer(s => { f.set(key, s) })
    }
  }) as Metrics['registerMetricGroup']

  registerCounter = ((name: string, options?: Options): Counter | undefined => {
    const f = this.#family(name, 'counter', false, options)
    if (f === undefined) return undefined
    return { increment: (v = 1) => { if (v > 0) f.add('', v) }, reset: () => { f.values.clear() } }
  }) as Metrics['registerCounter']

  registerCounterGroup = ((name: string, options?: Options): CounterGroup | undefined => {
    const f = this.#family(name, 'counter', true, options)
    if (f === undefined) return undefined
    return {
      increment: values => { for (const [k, v] of Object.entries(values)) { const n = by(v); if (n > 0) f.add(k, n) } },
      reset: () => { f.values.clear() }
    }
  }) as Metrics['registerCounterGroup']

  registerHistogram = ((name: string, options?: Options): Histogram | undefined =>
    this.#observer(name, 'histogram', options)) as Metrics['registerHistogram']

  registerSummary = ((name: string, options?: Options): Summary | undefined =>
    this.#observer(name, 'summary', options)) as Metrics['registerSummary']

  registerHistogramGroup = ((name: string, options?: Options): HistogramGroup | undefined =>
    this.#observerGroup(name, 'histogram', options)) as Metrics['registerHistogramGroup']

  registerSummaryGroup = ((name: string, options?: Options): SummaryGroup | undefined =>
    this.#observerGroup(name, 'summary', options)) as Metrics['registerSummaryGroup']

  #observer (name: string, kind: 'histogram' | 'summary', options?: Options): Histogram | undefined {
    const f = this.#family(name, kind, false, options)
    if (f === undefined) return undefined
    return {
      observe: v => { f.observe('', v) },
      reset: () => { f.observed = [] },
      timer: () => f.timer(s => { f.observe('', s) })
    }
  }

  #observerGroup (name: string, kind: 'histogram' | 'summary', options?: Options): HistogramGroup | undefined {
    const f = this.#family(name, kind, true, options)
    if (f === undefined) return undefined
    return {
      observe: values => { for (const [k, v] of Object.entries(values)) if (typeof v === 'number') f.observe(k, v) },
      reset: () => { f.observed = [] },
      timer: key => f.timer(s => { f.observe(key, s) })
    }
  }

  createTrace (): undefined {
    return undefined
  }

  traceFunction<F extends (...args: any[]) => any>(_name: string, fn: F): F {
    return fn
  }
}

/** Prometheus's name rule, as @libp2p/prometheus-metrics applied it: anything else becomes one underscore. */
function normalized (s: string): string {
  return s.replace(/[^a-zA-Z0-9_]/g, '_').replace(/_+/g, '_')
}

function by (v: number | true | undefined): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : v === true ? 1 : 0
}
