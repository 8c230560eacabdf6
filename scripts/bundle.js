/**
 * esbuild's bundle of samepage code as a daemon runs it: the daemon's build (scripts/build-daemon.js) and the
 * bench's node processes, which are daemons in all but name (bench/daemon-like.ts). Each bundle is a folder
 * named by a hash of what it holds, never rewritten once there: a process started from one can still load its
 * later chunks after another build. Put it two folders below the root (dist/daemon-HASH/,
 * .bench-tmp/NAME-HASH/), as src/cli/ is, so that what the code finds beside itself (../../package.json, the
 * dashboard's assets, ./hash-worker.js) is found alike.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { BUNDLED_FROM } from '../lib/daemon-bundle.js'

/** What a bundling killed halfway left (one takes about a second). */
const UNFINISHED_MS = 3600 * 1000
/** Native addons: loaded from node_modules, as from the source. */
const EXTERNAL = ['sodium-native', '@parcel/watcher', '@node-rs/crc32']
/**
 * Bundled CommonJS packages call require() for Node's own modules; an ES module has none, so each file gets one.
 * (`__dirname` stays undefined: only pino's transports use it, and the daemon's logger has none.)
 */
const BANNER = "import { createRequire as __samepageRequire } from 'node:module'; " +
  'const require = __samepageRequire(import.meta.url);'

/**
 * Bundles `entryPoints` (paths from `root`) into `parent/PREFIX-HASH/`, one file per entry (its base name) and
 * the chunks they share, with BUNDLED_FROM: which sources each file holds. Returns the folder's name and the
 * files the bundle was made from (relative to `root`).
 */
export async function bundleInto ({ root, entryPoints, parent, prefix }) {
  const esbuild = await import('esbuild')
  const outdir = path.join(parent, `${prefix}-next`)
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    outdir,
    entryNames: '[name]',
    chunkNames: '[name]-[hash]',
    external: EXTERNAL,
    banner: { js: BANNER },
    // Whitespace and syntax only: names stay, so a stack trace still says which function; with
    // NODE_OPTIONS=--enable-source-maps it says which line of src/ (the maps sit beside, read only then).
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: 'linked',
    sourcesContent: false, // the maps point into src/ (a checkout has it)
    charset: 'ascii', // a source with one non-Latin-1 character is kept in two bytes a character
    metafile: true,
    write: false,
    logLevel: 'silent'
  })
  await esbuild.stop()
  const hash = createHash('sha256')
  for (const file of [...result.outputFiles].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    hash.update(path.relative(outdir, file.path)).update('\0').update(file.contents)
  }
  const dir = `${prefix}-${hash.digest('hex').slice(0, 16)}`
  const final = path.join(parent, dir)
  if (fs.existsSync(final)) {
    const now = new Date()
    fs.utimesSync(final, now, now) // in use again: its age counts from now
  } else {
    const tmp = path.join(parent, `.${dir}-${process.pid}`)
    fs.mkdirSync(tmp, { recursive: true })
    // Which source files each file of the bundle holds: to tell what a process loaded (test/e2e/idle-loads.test.ts).
    const bundledFrom = Object.fromEntries(Object.entries(result.metafile.outputs)
      .filter(([file]) => file.endsWith('.js'))
      .map(([file, out]) => [path.basename(file), Object.keys(out.inputs)]))
    fs.writeFileSync(path.join(tmp, BUNDLED_FROM), JSON.stringify(bundledFrom))
    for (const file of result.outputFiles) {
      const to = path.join(tmp, path.relative(outdir, file.path))
      fs.mkdirSync(path.dirname(to), { recursive: true })
      fs.writeFileSync(to, file.contents)
    }
    try {
      fs.renameSync(tmp, final)
    } catch (err) {
      // Another process made the same bundle at the same time: theirs is ours, byte for byte.
      fs.rmSync(tmp, { recursive: true, force: true })
      if (!fs.existsSync(final)) throw err
    }
  }
  return { dir, inputs: Object.keys(result.metafile.inputs) }
}

/**
 * Removes from `parent` the bundles of `prefix` other than `current` older than `keepMs` (a process started from
 * one may still load its later chunks), and what a bundling killed halfway left there (and names `leftover`
 * matches: the caller's own temporary files) after an hour.
 */
export function removeOldBundles ({ parent, prefix, current, keepMs, leftover = /^$/ }) {
  const done = new RegExp(`^${prefix}-[0-9a-f]{16}$`)
  const unfinished = new RegExp(`^\\.${prefix}-[0-9a-f]{16}-\\d+$`)
  for (const name of fs.readdirSync(parent)) {
    const old = done.test(name) && name !== current
    if (!old && !unfinished.test(name) && !leftover.test(name)) continue
    const keepFor = old ? keepMs : UNFINISHED_MS
    const at = path.join(parent, name)
    const age = Date.now() - (fs.statSync(at, { throwIfNoEntry: false })?.mtimeMs ?? Date.now())
    if (age > keepFor) fs.rmSync(at, { recursive: true, force: true })
  }
}
