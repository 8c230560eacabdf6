/**
 * Makes a build of the daemon for `samepage start` (lib/daemon-bundle.js says why it runs bundled, and which
 * build it runs): esbuild bundles src/cli/main.ts and the hashing thread's src/files/hash-worker.ts into
 * dist/daemon-HASH/ and points dist/daemon.json at it. `samepage start` runs this in a checkout whose build is
 * missing or stale; `npm run build` and `npm pack` run it. Not in the package: esbuild is a devDependency.
 *
 *   node scripts/build-daemon.js [ROOT]      (ROOT: the checkout, by default the one this file is in)
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { POINTER } from '../lib/daemon-bundle.js'
import { bundleInto, removeOldBundles } from './bundle.js'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const ENTRY_POINTS = ['src/cli/main.ts', 'src/files/hash-worker.ts']
/** Builds older than this, other than the current one, are removed by the next build. */
const KEEP_OLD_BUILDS_MS = 30 * 24 * 3600 * 1000
/** A source written less than this before a build started may be in it as it was before (mtime granularity). */
const CHANGED_DURING_MS = 2000

/** Builds the daemon into dist/daemon-HASH/ and points dist/daemon.json at it; returns that pointer. */
async function buildDaemon (root = ROOT) {
  const started = Date.now()
  const parent = path.join(root, 'dist')
  const { dir, inputs: bundled } = await bundleInto({ root, entryPoints: ENTRY_POINTS, parent, prefix: 'daemon' })
  const sources = [...bundled, 'lib/daemon-bundle.js', 'scripts/build-daemon.js', 'scripts/bundle.js',
    path.relative(root, path.join(path.dirname(fileURLToPath(import.meta.resolve('esbuild'))), '..', 'package.json'))]
  const inputs = sources.map(file => {
    const st = fs.statSync(path.join(root, file))
    // Written while esbuild read the sources, or so shortly before that its time may not tell: the bundle may
    // hold it as it was. Recorded with no size, so that the next start builds again.
    return [file, st.mtimeMs > started - CHANGED_DURING_MS ? -1 : st.size, st.mtimeMs]
  })
  const pointer = { dir, inputs }
  const tmpPointer = path.join(root, `${POINTER}.${process.pid}`)
  fs.writeFileSync(tmpPointer, JSON.stringify(pointer))
  fs.renameSync(tmpPointer, path.join(root, POINTER))
  // Pointers written by builds killed before their rename: the same rule as a bundling's leftovers.
  const leftover = /^daemon\.json\.\d+$/
  removeOldBundles({ parent, prefix: 'daemon', current: dir, keepMs: KEEP_OLD_BUILDS_MS, leftover })
  return pointer
}

try {
  const pointer = await buildDaemon(process.argv[2] ?? ROOT)
  process.stdout.write(`dist/${pointer.dir}/ (${pointer.inputs.length} files bundled)\n`)
} catch (err) {
  // esbuild's first error says what and where: the first line is what `samepage start` shows.
  const first = err.errors?.[0]
  const where = first?.location == null ? '' : ` (${first.location.file}:${first.location.line})`
  process.stderr.write(`${first === undefined ? err.message : first.text + where}\n${err.stack ?? ''}\n`)
  process.exitCode = 1
}
