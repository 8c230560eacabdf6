import path from 'node:path'
import { bundleInto, removeOldBundles } from '../scripts/bundle.js'

/**
 * Node's arguments for a bench process that runs as a samepage daemon does: the daemon's V8 flags
 * (daemon-v8.js) set before its modules load, as bin/samepage.js sets them before it imports the daemon. An
 * `import './daemon-v8.js'` at the top of the script is not enough: Node loads and compiles every module a
 * script imports before it runs the first, and that loading had grown the young generation to 16 MiB
 * semi-spaces (a daemon's stay at 1 MiB). Without a script: the arguments alone (for fork's execArgv).
 */
export function daemonLike (script?: string): string[] {
  const flags = ['--import', path.join(import.meta.dirname, 'daemon-v8.js')]
  return script === undefined ? flags : [...flags, script]
}

const ROOT = path.join(import.meta.dirname, '..')
const BUNDLES = path.join(ROOT, '.bench-tmp')
/** Bundles of a bench script older than this, other than the one made now, are removed. */
const KEEP_OLD_BUNDLES_MS = 24 * 3600 * 1000

/**
 * The bench script bundled as `samepage start` runs the daemon (lib/daemon-bundle.js: one bundle instead of
 * ~800 modules, ~12 MB less for an idle daemon), so that a process that stands for a daemon holds what a
 * daemon holds and loads what it loads as fast (TLS's libraries at the first dial). Made once per bench process
 * (about a second; an unchanged script gives the same folder), in .bench-tmp/NAME-HASH/.
 */
export async function bundledScript (script: string): Promise<string> {
  let made = bundled.get(script)
  if (made === undefined) {
    made = bundle(script)
    bundled.set(script, made)
  }
  return await made
}
const bundled = new Map<string, Promise<string>>()

async function bundle (script: string): Promise<string> {
  const name = path.basename(script, path.extname(script))
  const entryPoints = [path.relative(ROOT, script)]
  const { dir } = await bundleInto({ root: ROOT, entryPoints, parent: BUNDLES, prefix: name })
  removeOldBundles({ parent: BUNDLES, prefix: name, current: dir, keepMs: KEEP_OLD_BUNDLES_MS })
  return path.join(BUNDLES, dir, `${name}.js`)
}
