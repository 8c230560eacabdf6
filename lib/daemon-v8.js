/**
 * The V8 settings of a daemon's process (`samepage start`, from bin/samepage.js; and the bench's node
 * processes, which are daemons in all but name: bench/daemon-v8.js). Set at run time, before the daemon's
 * code loads: given on the command line instead, the semi-space setting left the young generation growing.
 * Client commands keep V8's defaults: they load their modules faster with a heap free to grow, and exit.
 * Worker threads share the flags. Measured on 2 cores (issue 14); the figures are in docs/architecture.md.
 */
import v8 from 'node:v8'

const DAEMON_V8_FLAGS = [
  // V8 grows the young generation (two semi-spaces) up to 64 MiB each while a process allocates fast, and
  // keeps it: a daemon sat at 32 MiB of new space when idle and 128 MiB while syncing 10,000 small files,
  // resident all along. Left at its first size (1 MiB each) the small-file case peaked ~100 MB lower for
  // the same CPU. While the node catches up on a peer's entries, or takes many API writes at once, it may grow
  // to 16 MiB (src/cli/young-generation.ts).
  '--semi-space-growth-factor=1'
  // Not --heap-growing-percent (the old generation's growth between full collections, V8's own up to 4×):
  // held at 1.5× a late joiner of 100,000 entries peaked at 190–200 MB instead of 230–310, but syncing
  // 3,000 small files cost 1.6× the CPU, and at 2× still 1.3× (paired runs; docs/architecture.md).
  // Nor a smaller old generation (--max-old-space-size, which caps that growth; heap sizes are read when V8 makes
  // the heap, so only node's command line sets them): at 1024 and 1536 MB 10,000 small files peaked 20-30% lower
  // for 1.1-1.6× the CPU of both daemons (3 pairs each, issue 14).
]

/** Applies the daemon's V8 flags to this process (and the workers it starts later). */
export function useDaemonV8Flags () {
  for (const flag of DAEMON_V8_FLAGS) v8.setFlagsFromString(flag)
}

/**
 * `samepage start` only: V8's optimizing compilers (Maglev, TurboFan) stay off while the daemon loads its ~800
 * modules and opens its store, code that runs once; src/cli/start.ts turns them on (optimizeFromNow) before the
 * node starts its network and folders. Optimizing that start touched ~6 MB more of the node binary's code and
 * left ~2 MB of compiled code and compiler memory: an idle daemon 6-8 MB smaller (docs/architecture.md, "Memory").
 * Not for the bench's processes (bench/daemon-v8.js), which never turn them on.
 */
export function deferOptimizingCompilers () {
  v8.setFlagsFromString('--no-maglev')
  v8.setFlagsFromString('--no-turbofan')
}
