/**
 * `samepage start` runs the daemon as one bundle, made by esbuild, instead of its ~780 modules. Each module
 * Node loads keeps its loader records, its namespace and its source text: bundled and stripped of whitespace,
 * an idle daemon holds ~11 MB less (V8's heap ~5 MB, malloc the rest; docs/architecture.md, "Memory").
 * What the daemon loads only at first use (the API's routes and zod, ws, TLS's X.509 libraries) stays apart,
 * in chunks of its own, loaded when it is first needed, as from the source.
 *
 * A build is a folder `dist/daemon-HASH/` (HASH: of what it holds), which is never rewritten: a daemon running
 * from it can still load its later chunks after a newer build. It sits two folders below the package's root,
 * as src/cli/ and dist/cli/ do, so that what the code finds beside itself (../../package.json, the dashboard's
 * assets in src/api/dashboard, ./hash-worker.js) is found alike. `dist/daemon.json` names the current build and
 * the files it was made from, with their sizes and times.
 *
 * In a checkout a build runs only when it was made from exactly the files there now (the same rule as
 * lib/tree.js: a checkout never runs yesterday's code); otherwise `samepage start` makes a new one first
 * (about a second, in a child process, so the daemon loads nothing of esbuild), and runs the source if that fails,
 * saying why (or when SAMEPAGE_DAEMON_FROM_SOURCE=1 asks for the source). An installed package ships its build
 * (`npm pack` makes it) and has no source to compare.
 *
 * scripts/build-daemon.js makes a build.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
/** Makes a build; not in the package, which ships its build. */
const BUILDER = fileURLToPath(new URL('../scripts/build-daemon.js', import.meta.url))
export const POINTER = 'dist/daemon.json'
/** A build's folder in dist/. */
export const BUILD_DIR = /^daemon-[0-9a-f]{16}$/
/** In each build: which source files each of its files holds. */
export const BUNDLED_FROM = 'bundled-from.json'
/** Set (to anything but '' or 0) in a checkout, `samepage start` runs src/ as it is, unbundled. */
const FROM_SOURCE = 'SAMEPAGE_DAEMON_FROM_SOURCE'

/**
 * The URL of the daemon's bundled entry to import for `samepage start`, or undefined to run the source (or, in
 * an installed package that shipped no bundle, its dist/). `installed`: a package has no source to compare its
 * build with. In a checkout a stale or missing build is made first; `warn` is told when that fails.
 * @param {string} [root] the package's root
 * @param {{ installed?: boolean, warn?: (msg: string) => void }} [opts]
 * @returns {string | undefined}
 */
export function daemonEntry (root = ROOT, { installed = false, warn = msg => process.stderr.write(msg + '\n') } = {}) {
  const pointer = readPointer(root)
  if (installed) {
    const shipped = pointer !== undefined && fs.existsSync(entryPath(root, pointer))
    return shipped ? entryUrl(root, pointer) : undefined
  }
  if (!['', '0', undefined].includes(process.env[FROM_SOURCE])) return undefined
  if (pointer !== undefined && staleInput(root, pointer) === undefined) return entryUrl(root, pointer)
  const build = spawnSync(process.execPath, [BUILDER, root], { encoding: 'utf8' })
  const made = build.status === 0 ? readPointer(root) : undefined
  if (made === undefined) {
    const why = (build.error?.message ?? build.stderr ?? '').trim().split('\n')[0] || `exit ${build.status}`
    warn(`samepage: running the daemon from its source: bundling it failed (${why}); ` +
      `\`node scripts/build-daemon.js\` shows the whole error`)
    return undefined
  }
  return entryUrl(root, made)
}

/** The first file the build was made from that is gone or changed since, or undefined when it is current. */
export function staleInput (root, pointer) {
  if (!fs.existsSync(entryPath(root, pointer))) return path.relative(root, entryPath(root, pointer))
  for (const [file, size, mtimeMs] of pointer.inputs) {
    let st
    try { st = fs.statSync(path.join(root, file)) } catch { return file }
    if (st.size !== size || st.mtimeMs !== mtimeMs) return file
  }
  return undefined
}

/** dist/daemon.json, when it names a build. */
export function readPointer (root) {
  try {
    const pointer = JSON.parse(fs.readFileSync(path.join(root, POINTER), 'utf8'))
    return BUILD_DIR.test(pointer.dir) && Array.isArray(pointer.inputs) ? pointer : undefined
  } catch {
    return undefined
  }
}

function entryPath (root, pointer) {
  return path.join(root, 'dist', pointer.dir, 'main.js')
}

function entryUrl (root, pointer) {
  return pathToFileURL(entryPath(root, pointer)).href
}
