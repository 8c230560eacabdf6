/**
 * Which tree of samepage runs: its TypeScript source (src/, type-stripped by Node 24) in a checkout, its
 * build (dist/, made by `npm pack`) in an installed package. Used by the command line (bin/samepage.js)
 * and the library (lib/index.js), so both decide alike.
 *
 * A checkout never runs dist/, even when one is there: a build left by an earlier `npm run build` would run
 * yesterday's code, silently. The tarball ships no src/ TypeScript (package.json "files": only the
 * dashboard's assets), and Node strips no types under node_modules, so "the source is here, and not under a
 * node_modules folder" is what a checkout is. A `npm link` or `file:` install is a symlink to a checkout:
 * Node resolves it to the real path, which runs the source, as it should.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = new URL('../', import.meta.url)

/**
 * Whether this copy of samepage is an installed package (it runs its build) rather than a checkout: the same
 * rule as entryOf's (the package ships src/api/dashboard/, but no src/ code).
 */
export function isInstalled () {
  return underNodeModules() || !existsSync(new URL('src/cli/main.ts', ROOT))
}

/** Node strips no types under node_modules: a copy there runs its build, whatever else it holds. */
function underNodeModules () {
  return fileURLToPath(ROOT).split(path.sep).includes('node_modules')
}

/**
 * The URL to import for a module: `source` (a path in src/) in a checkout, else `built` (the same in dist/).
 * Throws, saying what to do, when an installed copy has no build.
 */
export function entryOf (source, built) {
  const root = fileURLToPath(ROOT)
  const sourceUrl = new URL(source, ROOT)
  const inNodeModules = underNodeModules()
  if (existsSync(sourceUrl) && !inNodeModules) return sourceUrl.href
  const builtUrl = new URL(built, ROOT)
  if (existsSync(builtUrl)) return builtUrl.href
  throw new Error(inNodeModules
    ? `samepage at ${root} has no build (${built}): Node strips no types under node_modules, so an installed ` +
      'samepage must come from a packed tarball (npm pack builds it) or have `npm run build` run in it'
    : `samepage at ${root} has neither its source (${source}) nor its build (${built})`)
}
