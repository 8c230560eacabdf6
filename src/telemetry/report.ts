import { toHex, TIME_MS_MAX } from '../codec/index.ts'
import { peerIdOf, publicKeyFromPeerId } from '../identity/index.ts'
import { isAuthorKey, keyBytes, printable } from '../ids/index.ts'
import { PERIOD_MAX_MS, STATUS_CLOCK_AHEAD_MAX_MS } from './period.ts'

/**
 * What a node says of itself in its status record, and its wire form: a
 * DAG-CBOR map with short keys, integers only (loads ×100, temperature ×10),
 * peers as their 32-byte public keys, every list capped. Anything a member
 * publishes passes through `decodeReport`, which never throws on a
 * well-signed but malformed body: it keeps what is valid and says what was not.
 */
export interface LinkReport {
  readonly peer: string
  readonly rttMs: number | null
  readonly inBps: number
  readonly outBps: number
  /**
   * The member relaying this link (circuit relay), absent for a direct link. On the wire, a fifth
   * tuple item only when relayed: a node from before relays writes four, and its links read as direct.
   */
  readonly relayedBy?: string
}
export interface SpaceReport {
  readonly id: string
  readonly name: string
  readonly entries: number
  readonly members: number
}
export interface FolderReport {
  readonly space: string
  readonly name: string
  readonly state: string
  readonly needFiles: number
  readonly needBytes: number
  readonly bytesPerSecond: number
  readonly conflicts: number
  readonly errors: number
}
export type AlertKind = 'overheating' | 'disk-full' | 'memory-low' | 'open-files' | 'peer-unreachable' | 'folder-stuck'
export const ALERT_KINDS: readonly AlertKind[] = [
  'overheating', 'disk-full', 'memory-low', 'open-files', 'peer-unreachable', 'folder-stuck'
]
export interface AlertReport {
  readonly kind: AlertKind
  readonly subject: string
  readonly detail: string
  readonly sinceMs: number
}
export interface MisbehaviourReport {
  readonly peer: string
  readonly reason: string
  readonly points: number
  readonly atMs: number
}

export interface NodeReport {
  readonly name: string
  readonly version: string
  readonly startedMs: number
  /** How often this node publishes: receivers call it down after a few periods of silence. */
  readonly periodMs: number
  readonly load: readonly [number, number, number]
  readonly cpus: number
  readonly memory: { readonly totalBytes: number, readonly freeBytes: number, readonly rssBytes: number }
  readonly disk: { readonly totalBytes: number, readonly freeBytes: number } | null
  /** The hottest sensor the host exposes, in °C; null where it exposes none. */
  readonly temperatureC: number | null
  readonly links: readonly LinkReport[]
  readonly spaces: readonly SpaceReport[]
  readonly folders: readonly FolderReport[]
  readonly traffic: {
    readonly bytesIn: number
    readonly bytesOut: number
    readonly inBps: number
    readonly outBps: number
  }
  readonly misbehaviour: readonly MisbehaviourReport[]
  readonly alerts: readonly AlertReport[]
  /**
   * Where this node listens (multiaddrs without its /p2p/), for peer exchange: a member that
   * cannot reach it at the addresses it knew dials these. Read here only as bounded text;
   * which of them a node dials is net/peer-exchange.ts's rule.
   */
  readonly addrs: readonly string[]
}

/** Caps that keep a record well under STATUS_BYTES_MAX (16 KiB) whatever the node holds. */
export const REPORT_LIMITS = {
  links: 32, spaces: 16, folders: 12, misbehaviour: 8, alerts: 16, text: 64, addrs: 8, addrChars: 128
} as const
/** An address as text: printable ASCII, no spaces, at most REPORT_LIMITS.addrChars. */
const ADDR_TEXT = /^[\x21-\x7e]+$/
const addrText = (v: unknown): v is string =>
  typeof v === 'string' && v.length <= REPORT_LIMITS.addrChars && ADDR_TEXT.test(v)

const int = (n: number): number => Number.isFinite(n) ? Math.max(0, Math.round(n)) : 0
const text = (s: string): string => s.length <= REPORT_LIMITS.text ? s : s.slice(0, REPORT_LIMITS.text - 1) + '…'
/** A peer's text as we show it (ids/printable.ts), within the report's length cap. */
const safeText = (s: string): string => printable(s, REPORT_LIMITS.text)
/** A round trip longer than this is not a measurement. */
const RTT_MAX_MS = 600_000
/** Temperatures in tenths of °C a sensor can report; anything else is a bad field. */
const TENTHS_C_MIN = -1000
const TENTHS_C_MAX = 10_000
const key = (peerId: string): Uint8Array | string => publicKeyFromPeerId(peerId) ?? text(peerId)

export function encodeReport (r: NodeReport): Record<string, unknown> {
  return {
    v: 1,
    n: text(r.name),
    ver: text(r.version),
    st: int(r.startedMs),
    p: int(r.periodMs),
    ld: r.load.map(l => int(l * 100)),
    cpu: int(r.cpus),
    mem: [int(r.memory.totalBytes), int(r.memory.freeBytes), int(r.memory.rssBytes)],
    dk: r.disk === null ? null : [int(r.disk.totalBytes), int(r.disk.freeBytes)],
    t: r.temperatureC === null ? null : Math.round(r.temperatureC * 10),
    ln: r.links.slice(0, REPORT_LIMITS.links).map(linkTuple),
    sp: r.spaces.slice(0, REPORT_LIMITS.spaces)
      .map(s => [fromHexOrText(s.id), text(s.name), int(s.entries), int(s.members)]),
    fo: r.folders.slice(0, REPORT_LIMITS.folders).map(f => [
      fromHexOrText(f.space), text(f.name), text(f.state),
      int(f.needFiles), int(f.needBytes), int(f.bytesPerSecond), int(f.conflicts), int(f.errors)
    ]),
    io: [int(r.traffic.bytesIn), int(r.traffic.bytesOut), int(r.traffic.inBps), int(r.traffic.outBps)],
    mb: r.misbehaviour.slice(-REPORT_LIMITS.misbehaviour)
      .map(m => [key(m.peer), text(m.reason), int(m.points), int(m.atMs)]),
    al: r.alerts.slice(0, REPORT_LIMITS.alerts).map(a => [a.kind, text(a.subject), text(a.detail), int(a.sinceMs)]),
    ad: r.addrs.filter(addrText).slice(0, REPORT_LIMITS.addrs)
  }
}

function linkTuple (l: LinkReport): unknown[] {
  const tuple = [key(l.peer), l.rttMs === null ? null : int(l.rttMs), int(l.inBps), int(l.outBps)]
  const relay = l.relayedBy === undefined ? null : publicKeyFromPeerId(l.relayedBy)
  return relay === null ? tuple : [...tuple, relay]
}

interface DecodedReport { readonly report: NodeReport, readonly problems: readonly string[] }

/**
 * The body of a verified status record, read defensively: bad fields become
 * defaults, and are named in `problems`; it never throws. Every number is a
 * non-negative safe integer, every time at most TIME_MS_MAX (a Date can show
 * it), every text capped and free of control characters. Given the record's own
 * clock (`wallMs`), a time in the body later than it (by more than the skew a
 * record may have) is bad too: nothing in a record happened after it was made,
 * and such a time would read "just now" for ever.
 */
export function decodeReport (body: Readonly<Record<string, unknown>>, wallMs?: number): DecodedReport {
  try {
    const latestMs = wallMs === undefined ? TIME_MS_MAX : Math.min(TIME_MS_MAX, wallMs + STATUS_CLOCK_AHEAD_MAX_MS)
    return readReport(body, latestMs)
  } catch {
    // Not expected (every field is checked); a peer's record must still never take the map down with it.
    return { report: readReport({}).report, problems: ['unreadable body'] }
  }
}

function readReport (body: Readonly<Record<string, unknown>>, latestMs = TIME_MS_MAX): DecodedReport {
  const problems: string[] = []
  const bad = (field: string): void => { if (problems.length < 8) problems.push(field) }
  const num = (v: unknown, field: string): number => {
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v
    bad(field)
    return 0
  }
  const time = (v: unknown, field: string): number => {
    const whole = typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
    if (whole && v <= latestMs) return v
    bad(whole && v <= TIME_MS_MAX ? `${field} (after the record)` : field)
    return 0
  }
  const upTo = (v: unknown, field: string, max: number): number => {
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max) return v
    bad(field)
    return 0
  }
  const str = (v: unknown, field: string): string => {
    if (typeof v === 'string') return safeText(v)
    bad(field)
    return ''
  }
  const list = (v: unknown, field: string, max: number): unknown[][] => {
    if (!Array.isArray(v)) { bad(field); return [] }
    if (v.length > max) bad(`${field} (over ${max})`)
    return v.slice(0, max).filter((x, i): x is unknown[] => Array.isArray(x) || (bad(`${field}[${i}]`), false))
  }
  const peer = (v: unknown, field: string): string => {
    if (v instanceof Uint8Array && v.length === 32) return peerIdOf(v)
    bad(field)
    return '?'
  }
  // A space's key as bytes (fromHexOrText), else text: bytes of another length are a bad field, not 2 hex digits each.
  const id = (v: unknown, field: string): string => {
    if (!(v instanceof Uint8Array)) return str(v, field)
    if (v.length === 32) return toHex(v)
    bad(field)
    return '?'
  }
  if (body.v !== 1) bad('v')
  const ld = Array.isArray(body.ld) && body.ld.length === 3
    ? body.ld.map((l, i) => num(l, `ld[${i}]`) / 100)
    : (bad('ld'), [0, 0, 0])
  const mem = Array.isArray(body.mem) ? body.mem : (bad('mem'), [])
  const dk = body.dk === null ? null : Array.isArray(body.dk) ? body.dk : (bad('dk'), null)
  const io = Array.isArray(body.io) ? body.io : (bad('io'), [])
  const t = body.t
  const tenthsOk = typeof t === 'number' && Number.isSafeInteger(t) && t >= TENTHS_C_MIN && t <= TENTHS_C_MAX
  const temperatureC = t === null || t === undefined ? null : tenthsOk ? t / 10 : (bad('t'), null)
  const report: NodeReport = {
    name: str(body.n, 'n'),
    version: str(body.ver, 'ver'),
    startedMs: time(body.st, 'st'),
    periodMs: upTo(body.p, 'p', PERIOD_MAX_MS),
    load: [ld[0] ?? 0, ld[1] ?? 0, ld[2] ?? 0],
    cpus: num(body.cpu, 'cpu'),
    memory: { totalBytes: num(mem[0], 'mem[0]'), freeBytes: num(mem[1], 'mem[1]'), rssBytes: num(mem[2], 'mem[2]') },
    disk: dk === null ? null : { totalBytes: num(dk[0], 'dk[0]'), freeBytes: num(dk[1], 'dk[1]') },
    temperatureC,
    links: list(body.ln, 'ln', REPORT_LIMITS.links).map((l, i) => {
      const link = {
        peer: peer(l[0], `ln[${i}]`),
        rttMs: l[1] === null ? null : upTo(l[1], `ln[${i}].rtt`, RTT_MAX_MS),
        inBps: num(l[2], `ln[${i}].in`),
        outBps: num(l[3], `ln[${i}].out`)
      }
      const relayedBy = relayOf(l[4], link.peer, () => bad(`ln[${i}].relay`))
      return relayedBy === null ? link : { ...link, relayedBy }
    }),
    // One row per space (a space listed 16 times counted as 16 holders on the page: a review's probe).
    spaces: firstOfEach(list(body.sp, 'sp', REPORT_LIMITS.spaces).map((s, i) => ({
      id: id(s[0], `sp[${i}]`),
      name: str(s[1], `sp[${i}].name`),
      entries: num(s[2], `sp[${i}].entries`),
      members: num(s[3], `sp[${i}].members`)
    })), s => s.id, i => { bad(`sp[${i}] (a space listed again)`) }),
    folders: firstOfEach(list(body.fo, 'fo', REPORT_LIMITS.folders).map((f, i) => ({
      space: id(f[0], `fo[${i}]`),
      name: str(f[1], `fo[${i}].name`),
      state: str(f[2], `fo[${i}].state`),
      needFiles: num(f[3], `fo[${i}].files`),
      needBytes: num(f[4], `fo[${i}].bytes`),
      bytesPerSecond: num(f[5], `fo[${i}].rate`),
      conflicts: num(f[6], `fo[${i}].conflicts`),
      errors: num(f[7], `fo[${i}].errors`)
    })), f => f.space, i => { bad(`fo[${i}] (a folder of a space listed again)`) }),
    traffic: {
      bytesIn: num(io[0], 'io[0]'),
      bytesOut: num(io[1], 'io[1]'),
      inBps: num(io[2], 'io[2]'),
      outBps: num(io[3], 'io[3]')
    },
    misbehaviour: list(body.mb, 'mb', REPORT_LIMITS.misbehaviour).map((m, i) => ({
      peer: peer(m[0], `mb[${i}]`),
      reason: str(m[1], `mb[${i}].reason`),
      points: num(m[2], `mb[${i}].points`),
      atMs: time(m[3], `mb[${i}].at`)
    })),
    alerts: list(body.al, 'al', REPORT_LIMITS.alerts).flatMap((a, i) => {
      if (!ALERT_KINDS.includes(a[0] as AlertKind)) { bad(`al[${i}].kind`); return [] }
      return [{
        kind: a[0] as AlertKind,
        subject: str(a[1], `al[${i}].subject`),
        detail: str(a[2], `al[${i}].detail`),
        sinceMs: time(a[3], `al[${i}].since`)
      }]
    }),
    addrs: addrList(body.ad, bad)
  }
  return { report, problems }
}

/**
 * A link's relay: absent (or null) is direct; otherwise a member's 32-byte key, and not the far end
 * itself. Anything else is named and the link read as direct: drawn plainly rather than through
 * someone the record cannot name.
 */
function relayOf (v: unknown, peer: string, bad: () => void): string | null {
  if (v === undefined || v === null) return null
  const relay = v instanceof Uint8Array && v.length === 32 ? peerIdOf(v) : null
  if (relay === null || relay === peer) { bad(); return null }
  return relay
}

/** A record without `ad` (a node from before peer exchange) names no addresses; that is no problem. */
function addrList (v: unknown, bad: (field: string) => void): string[] {
  if (v === undefined) return []
  if (!Array.isArray(v)) { bad('ad'); return [] }
  if (v.length > REPORT_LIMITS.addrs) bad(`ad (over ${REPORT_LIMITS.addrs})`)
  return v.slice(0, REPORT_LIMITS.addrs).filter((a, i): a is string => addrText(a) || (bad(`ad[${i}]`), false))
}

function fromHexOrText (id: string): Uint8Array | string {
  return isAuthorKey(id) ? keyBytes(id) : text(id)
}

/** The first row of each key, in order; `again(i)` told of each later one (a bad field of the record). */
function firstOfEach<T> (rows: readonly T[], key: (row: T) => string, again: (index: number) => void): T[] {
  const seen = new Set<string>()
  return rows.filter((row, i) => {
    const k = key(row)
    if (!seen.has(k)) { seen.add(k); return true }
    again(i)
    return false
  })
}
