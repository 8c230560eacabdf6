import v8 from 'node:v8'

/**
 * Lets V8's young generation grow while the daemon works through a burst
 * of entries, and holds it at its first size (1 MiB per semi-space:
 * lib/daemon-v8.js says why) the rest of the time. Two bursts count:
 *
 * - Catch-up on a peer's entries. A run of up to 1,024 entries is decoded,
 *   checked against the signature at its end and committed in one go, so
 *   all of it is alive until its commit: ~5.5 MB allocated per run, in a
 *   young generation of 1 MiB, is ~10 scavenges that each copy what the run
 *   made so far. A late joiner of 100,000 entries spent ~1 s of its ~2.5
 *   CPU-seconds in 1,200 such scavenges. With room for a run or two (16 MiB
 *   of new space), about 230 scavenges took ~0.45 s: the joiner ~10% faster
 *   for ~10% less CPU (3 alternated pairs; more room gained nothing and
 *   cost ~30 MB).
 * - Live writes from many API clients at once (group commits of at least
 *   GROUP_WRITES writes): each request, its group and its answer stay alive
 *   until the group's fsync, across several scavenges of 1 MiB. With 256
 *   clients 10,265-11,089 writes/s against 8,391-9,538 (and a peak of
 *   176-215 MB against 236-270), with 64 clients 9,894-10,141 against
 *   8,833-9,489 (bench/live-writes.ts, 3 alternated pairs, load 0.7-1.9).
 *
 * Growth is allowed from the first such batch and stops at
 * NEW_SPACE_BYTES_MAX or when a batch comes with the young generation that
 * large; V8 gives the room back when the daemon's allocation rate falls,
 * or in the collection that quiet-gc.ts asks for. Our own other batches (a
 * folder's records, 256 a commit) never let it grow: with a young
 * generation held larger all along, the sender of 10,000 small files spent
 * 1.6-1.9x its CPU (docs/architecture.md).
 */

/** A 'stored' batch from a peer at least this big is catch-up (a live write stores one entry). */
const CATCH_UP_BATCH_ENTRIES = 256
/** A group commit at least this big means as many API clients writing at once. */
const GROUP_WRITES = 16
const NEW_SPACE_BYTES_MAX = 16 * 1024 * 1024
/** V8's own growth factor, and the daemon's (no growth). */
const GROWING = '--semi-space-growth-factor=2'
const HELD = '--semi-space-growth-factor=1'

type StoredListener = (ev: { readonly count: number, readonly from: string }) => void
type GroupedListener = (ev: { readonly writes: number }) => void

type Subscribe = ((event: 'stored', listener: StoredListener) => unknown)
  & ((event: 'grouped', listener: GroupedListener) => unknown)

/** The node's events it watches (a Node, or a test's emitter). */
interface BurstEvents { on: Subscribe, off: Subscribe }

/** What it asks of V8 (node:v8 itself, or a test's stand-in). */
export interface YoungGenerationControl {
  setFlagsFromString (flag: string): void
  getHeapSpaceStatistics (): readonly { readonly space_name: string, readonly space_size: number }[]
}

/** Starts watching `node`'s batches; the returned function stops it and holds the young generation again. */
export function growYoungGenerationInBursts (node: BurstEvents, heap: YoungGenerationControl = v8): () => void {
  let growing = false
  const grow = (on: boolean): void => {
    if (on === growing) return
    heap.setFlagsFromString(on ? GROWING : HELD)
    growing = on
  }
  const burst = (): void => {
    const newSpace = heap.getHeapSpaceStatistics().find(s => s.space_name === 'new_space')?.space_size ?? 0
    grow(newSpace < NEW_SPACE_BYTES_MAX)
  }
  const onStored: StoredListener = ev => { if (ev.from !== 'local' && ev.count >= CATCH_UP_BATCH_ENTRIES) burst() }
  const onGrouped: GroupedListener = ev => { if (ev.writes >= GROUP_WRITES) burst() }
  node.on('stored', onStored)
  node.on('grouped', onGrouped)
  return () => {
    node.off('stored', onStored)
    node.off('grouped', onGrouped)
    grow(false)
  }
}
