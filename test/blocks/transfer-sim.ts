import { BlockScheduler } from '../../src/blocks/index.ts'
import type { BlockRef, SchedulerOptions } from '../../src/blocks/index.ts'
import { EventQueue } from '../sim/event-queue.ts'

/**
 * A transfer in virtual time, to test the scheduler's decisions: each seeder
 * serves its requests one after another at its own rate (its upload cap),
 * after a one-way latency; a cancelled request that has not started is
 * skipped. A seeder may stop answering at a given time, or send corrupt
 * bytes. Every loop is bounded; the run ends when every block arrived.
 */
export interface Seeder {
  readonly id: string
  readonly bytesPerMs: number
  readonly latencyMs?: number
  /** Stops answering (as if its process died) from this time on. */
  readonly stopAtMs?: number
  /** From this time on it serves at `slowBytesPerMs` (a link gone bad). */
  readonly slowAfterMs?: number
  readonly slowBytesPerMs?: number
  /** Sends bytes that do not match the hash. */
  readonly corrupt?: boolean
  /** Holds only these blocks (default: all). */
  readonly holds?: ReadonlySet<string>
  /** Announced as held, but answered "I do not have it" when asked (until `lacksUntilMs`, if given). */
  readonly lacks?: ReadonlySet<string>
  readonly lacksUntilMs?: number
}

export interface TransferResult {
  readonly doneAtMs: number
  readonly validFrom: Map<string, number>
  requests: number
  cancels: number
  /** Per seeder, the requests it answered "I do not have it". */
  readonly refusedBy: Map<string, number>
  readonly dropped: string[]
  readonly penalized: string[]
  readonly duplicates: number
  /** Time each block first arrived valid (the order of completion). */
  readonly arrivals: Map<string, number>
  /** Who sent each block's first valid copy. */
  readonly sourceOf: Map<string, string>
  readonly firstRequestMs: Map<string, number>
}

export function blocksOf (count: number, size: number, prefix = 'b'): BlockRef[] {
  return Array.from({ length: count }, (_, i) => ({ hash: `${prefix}${String(i).padStart(8, '0')}`, size }))
}

export function runTransfer (blocks: readonly BlockRef[], seeders: readonly Seeder[], opts: SchedulerOptions = {}, stepsMax = 2_000_000): TransferResult {
  const s = new BlockScheduler(opts)
  const events = new EventQueue<{ atMs: number, order: number, run: () => void }>()
  let order = 0
  const q = { push: (atMs: number, run: () => void): void => { events.push({ atMs, order: order++, run }) } }
  let now = 0
  s.want(blocks)
  const size = new Map(blocks.map(b => [b.hash, b.size]))
  const queue = new Map<string, string[]>(seeders.map(p => [p.id, []]))
  const busy = new Set<string>()
  const cancelled = new Set<string>()
  const byId = new Map(seeders.map(p => [p.id, p]))
  const result: TransferResult = { doneAtMs: NaN, validFrom: new Map(), requests: 0, cancels: 0, refusedBy: new Map(), dropped: [], penalized: [], duplicates: 0, arrivals: new Map(), sourceOf: new Map(), firstRequestMs: new Map() }
  for (const p of seeders) {
    s.addPeer(p.id, 0)
    s.has(p.id, p.holds ?? blocks.map(b => b.hash), 0)
  }

  const serveNext = (peer: Seeder): void => {
    if (busy.has(peer.id)) return
    const list = queue.get(peer.id) as string[]
    let hash: string | undefined
    while ((hash = list.shift()) !== undefined && cancelled.delete(`${peer.id}|${hash}`));
    if (hash === undefined) return
    if (peer.stopAtMs !== undefined && now >= peer.stopAtMs) return
    const h = hash
    if (peer.lacks?.has(h) === true && (peer.lacksUntilMs === undefined || now < peer.lacksUntilMs)) {
      result.refusedBy.set(peer.id, (result.refusedBy.get(peer.id) ?? 0) + 1)
      q.push(now + (peer.latencyMs ?? 1), () => { s.refused(peer.id, h, now); drive() })
      serveNext(peer)
      return
    }
    busy.add(peer.id)
    const rate = peer.slowAfterMs !== undefined && now >= peer.slowAfterMs ? peer.slowBytesPerMs ?? peer.bytesPerMs : peer.bytesPerMs
    q.push(now + (size.get(h) as number) / rate, () => {
      busy.delete(peer.id)
      if (peer.stopAtMs !== undefined && now >= peer.stopAtMs) return
      q.push(now + (peer.latencyMs ?? 1), () => {
        s.received(peer.id, h, peer.corrupt !== true, now)
        if (peer.corrupt !== true && !result.arrivals.has(h)) {
          result.arrivals.set(h, now)
          result.sourceOf.set(h, peer.id)
          result.validFrom.set(peer.id, (result.validFrom.get(peer.id) ?? 0) + 1)
        }
        drive()
      })
      serveNext(peer)
    })
  }

  let timer: number | null = null
  const drive = (): void => {
    for (const a of s.poll(now)) {
      const peer = byId.get(a.peer) as Seeder
      if (a.type === 'request') {
        result.requests++
        if (!result.firstRequestMs.has(a.hash)) result.firstRequestMs.set(a.hash, now)
        q.push(now + (peer.latencyMs ?? 1), () => { (queue.get(peer.id) as string[]).push(a.hash); serveNext(peer) })
      } else if (a.type === 'cancel') {
        result.cancels++
        cancelled.add(`${a.peer}|${a.hash}`)
      } else if (a.type === 'drop') {
        result.dropped.push(a.peer)
      } else {
        result.penalized.push(a.peer)
      }
    }
    const next = s.nextDeadline()
    if (next !== null && (timer === null || next < timer)) {
      timer = next
      q.push(next, () => { timer = null; s.tick(now); drive() })
    }
  }

  drive()
  for (let steps = 0; !s.done(); steps++) {
    if (steps > stepsMax) throw new Error(`transfer did not finish in ${stepsMax} steps; ${JSON.stringify(s.progress()).slice(0, 400)}`)
    const ev = events.pop()
    if (ev === undefined) throw new Error(`transfer stalled at ${now} ms: ${JSON.stringify(s.progress()).slice(0, 400)}`)
    now = ev.atMs
    ev.run()
  }
  return { ...result, doneAtMs: now, duplicates: s.progress().duplicateBlocks }
}
