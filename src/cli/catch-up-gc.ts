import v8 from 'node:v8'

/**
 * Lets V8's young generation grow while the daemon catches up on entries
 * from peers, and holds it at its first size (1 MiB per semi-space:
 * lib/daemon-v8.js says why) the rest of the time.
 *
 * A run of up to 1,024 entries is decoded, checked against the signature at
 * its end and committed in one go, so all of it is alive until its commit:
 * ~5.5 MB allocated per run, in a young generation of 1 MiB, is ~10
 * scavenges that each copy what the run made so far. A late joiner of
 * 100,000 entries spent ~1 s of its ~2.5 CPU-seconds in 1,200 such
 * scavenges. With room for a run or two (16 MiB of new space), about 230
 * scavenges took ~0.45 s: the joiner ~10% faster for ~10% less CPU (3
 * alternated pairs; more room gained nothing and cost ~30 MB).
 *
 * Growth is allowed from the first big batch of a peer's entries and stops
 * at NEW_SPACE_BYTES_MAX or when a batch arrives with the young generation
 * that large; V8 gives the room back when the daemon's allocation rate
 * falls, or in the collection that quiet-gc.ts asks for.
 */

/** A 'stored' batch from a peer at least this big is catch-up (a live write stores one entry). */
const CATCH_UP_BATCH_ENTRIES = 256
const NEW_SPACE_BYTES_MAX = 16 * 1024 * 1024
/** V8's own growth factor, and the daemon's (no growth). */
const GROWING = '--semi-space-growth-factor=2'
const HELD = '--semi-space-growth-factor=1'

interface StoredEvents {
  on (event: 'stored', listener: (ev: { readonly count: number, readonly from: string }) => void): unknown
  off (event: 'stored', listener: (ev: { readonly count: number, readonly from: string }) => void): unknown
}

/** What it asks of V8 (node:v8 itself, or a test's stand-in). */
export interface YoungGenerationControl {
  setFlagsFromString (flag: string): void
  getHeapSpaceStatistics (): readonly { readonly space_name: string, readonly space_size: number }[]
}

/** Starts watching `node`'s stored batches; the returned function stops it and holds the young generation again. */
export function growYoungGenerationInCatchUp (node: StoredEvents, heap: YoungGenerationControl = v8): () => void {
  let growing = false
  const grow = (on: boolean): void => {
    if (on === growing) return
    heap.setFlagsFromString(on ? GROWING : HELD)
    growing = on
  }
  const onStored = (ev: { readonly count: number, readonly from: string }): void => {
    if (ev.from === 'local' || ev.count < CATCH_UP_BATCH_ENTRIES) return
    const newSpace = heap.getHeapSpaceStatistics().find(s => s.space_name === 'new_space')?.space_size ?? 0
    grow(newSpace < NEW_SPACE_BYTES_MAX)
  }
  node.on('stored', onStored)
  return () => {
    node.off('stored', onStored)
    grow(false)
  }
}
