/**
 * The V8 settings of a daemon's process (`samepage start`, from bin/samepage.js; and the bench's node
 * processes, which are daemons in all but name: bench/daemon-v8.ts). Set at run time, before the daemon's
 * code loads: given on the command line instead, the semi-space setting left the young generation growing.
 * Client commands keep V8's defaults: they load their modules faster with a heap free to grow, and exit.
 * Worker threads share the flags. Measured on 2 cores (issue 14); the figures are in docs/architecture.md.
 */
import v8 from 'node:v8'

const DAEMON_V8_FLAGS = [
  // V8 grows the young generation (two semi-spaces) up to 64 MiB each while a process allocates fast, and
  // keeps it: a daemon sat at 32 MiB of new space when idle and 128 MiB while syncing 10,000 small files,
  // resident all along. Left at its first size (1 MiB each) the small-file case peaked ~100 MB lower for
  // the same CPU.
  '--semi-space-growth-factor=1',
  // After each full collection V8 lets the old generation grow by a factor it chooses from how fast it
  // collects, up to 4×: a late joiner's heap, its live part small, ran up to 4× that before the next
  // collection, and the Buffers its garbage held (entry bytes, ids, rows: native memory) with it. Held at
  // 1.5×, the joiner of 100,000 entries peaked at ~180 MB instead of 220–310, for no more CPU.
  '--heap-growing-percent=50'
]

/** Applies the daemon's V8 flags to this process (and the workers it starts later). */
export function useDaemonV8Flags () {
  for (const flag of DAEMON_V8_FLAGS) v8.setFlagsFromString(flag)
}
