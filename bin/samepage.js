#!/usr/bin/env node
// samepage's command line. A plain JS shim: samepage is TypeScript, run by
// Node 24's type stripping in a checkout, or built to dist/ in an installed
// package (Node strips no types under node_modules); lib/tree.js decides which,
// and a checkout never runs a dist/ left by an earlier build. An older Node is
// told what to do instead of failing on the import.
import module from 'node:module'
import { deferOptimizingCompilers, useDaemonV8Flags } from '../lib/daemon-v8.js'

const major = Number(process.versions.node.split('.')[0])
if (major < 24) {
  console.error(`samepage needs Node 24 (this is Node ${process.versions.node}); in a checkout, npm exec samepage -- ... runs it under the Node 24 npm ci installed; or install Node 24`)
  process.exit(1)
}
// The daemon's V8 settings (lib/daemon-v8.js says why), before anything else loads; only for the daemon.
// (A word `start` elsewhere in a command only changes how that command collects its garbage, and that it runs
// unoptimized: nothing in a client command runs long enough to be optimized anyway.)
const daemon = process.argv.slice(2).includes('start')
if (daemon) {
  useDaemonV8Flags()
  deferOptimizingCompilers()
}
const { entryOf, isInstalled } = await import('../lib/tree.js')
let main
try {
  // The daemon runs bundled (lib/daemon-bundle.js says why); a client command loads the few modules it needs
  // (one with a word `start` among its arguments runs the same code from the bundle).
  if (daemon) {
    const { daemonEntry } = await import('../lib/daemon-bundle.js')
    main = daemonEntry(undefined, { installed: isInstalled() })
  }
  // Node's compile cache (os.tmpdir()/node-compile-cache, or $NODE_COMPILE_CACHE; off with
  // NODE_DISABLE_COMPILE_CACHE=1) keeps each module's type-stripped and compiled code. Without it a
  // command spent about 90 ms more CPU (60 of them starting the type stripper), loading the daemon 0.35 s more.
  // Not for the bundled daemon: it strips no types, compiling it costs ~30 ms, and Node keeps every cache entry it
  // read in memory to the end (~0.5-0.8 MB of an idle daemon's RSS).
  if (main === undefined) module.enableCompileCache?.()
  main ??= entryOf('src/cli/main.ts', 'dist/cli/main.js')
} catch (err) {
  console.error(`samepage: ${err.message}`)
  process.exit(1)
}
await import(main)
