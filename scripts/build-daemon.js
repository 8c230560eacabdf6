/**
 * Makes a build of the daemon for `samepage start` (lib/daemon-bundle.js says why it runs bundled, and which
 * build it runs): esbuild bundles src/cli/main.ts and the hashing thread's src/files/hash-worker.ts into
 * dist/daemon-HASH/ and points dist/daemon.json at it. `samepage start` runs this in a checkout whose build is
 * missing or stale; `npm run build` and `npm pack` run it. Not in the package: esbuild is a devDependency.
 *
 *   node scripts/build-daemon.js [ROOT]      (ROOT: the checkout, by default the one this file is in)
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { BUILD_DIR, BUNDLED_FROM, POINTER } from '../lib/daemon-bundle.js'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const ENTRY_POINTS = ['src/cli/main.ts', 'src/files/hash-worker.ts']
/** Native addons: loaded from node_modules, as from the source. */
const EXTERNAL = ['sodium-native', '@parcel/watcher']
/** Builds older than this, other than the current one, are removed by the next build. */
const KEEP_OLD_BUILDS_MS = 30 * 24 * 3600 * 1000
/** What a build killed halfway left (a build takes about a second). */
const UNFINISHED_MS = 3600 * 1000
/**
 * Bundled CommonJS packages call require() for Node's own modules; an ES module has none, so each file gets one.
 * (`__dirname` stays undefined: only pino's transports use it, and the daemon's logger has none.)
 */
const BANNER = "import { createRequire as __samepageRequire } from 'node:module'; " +
  'const require = __samepageRequire(import.meta.url);'

/** Builds the daemon into dist/daemon-HASH/ and points dist/daemon.json at it; returns that pointer. */
async function buildDaemon (root = ROOT) {
  const esbuild = await import('esbuild')
  const outdir = path.join(root, 'dist', 'daemon-next')
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ENTRY_POINTS,
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
  const dir = `daemon-${hash.digest('hex').slice(0, 16)}`
  // Which source files each file of the build holds: to tell what a daemon loaded (test/e2e/idle-loads.test.ts).
  const bundledFrom = Object.fromEntries(Object.entries(result.metafile.outputs)
    .filter(([file]) => file.endsWith('.js'))
    .map(([file, out]) => [path.basename(file), Object.keys(out.inputs)]))
  const final = path.join(root, 'dist', dir)
  if (fs.existsSync(final)) {
    const now = new Date()
    fs.utimesSync(final, now, now) // in use again: its age counts from now
  } else {
    const tmp = path.join(root, 'dist', `.${dir}-${process.pid}`)
    fs.mkdirSync(tmp, { recursive: true })
    fs.writeFileSync(path.join(tmp, BUNDLED_FROM), JSON.stringify(bundledFrom))
    for (const file of result.outputFiles) {
      const to = path.join(tmp, path.relative(outdir, file.path))
      fs.mkdirSync(path.dirname(to), { recursive: true })
      fs.writeFileSync(to, file.contents)
    }
    try {
      fs.renameSync(tmp, final)
    } catch (err) {
      // Another start made the same build at the same time: theirs is ours, byte for byte.
      fs.rmSync(tmp, { recursive: true, force: true })
      if (!fs.existsSync(final)) throw err
    }
  }
  const sources = [...Object.keys(result.metafile.inputs), 'lib/daemon-bundle.js', 'scripts/build-daemon.js',
    path.relative(root, path.join(path.dirname(fileURLToPath(import.meta.resolve('esbuild'))), '..', 'package.json'))]
  const inputs = sources.map(file => {
    const st = fs.statSync(path.join(root, file))
    return [file, st.size, st.mtimeMs]
  })
  const pointer = { dir, inputs }
  const tmpPointer = path.join(root, `${POINTER}.${process.pid}`)
  fs.writeFileSync(tmpPointer, JSON.stringify(pointer))
  fs.renameSync(tmpPointer, path.join(root, POINTER))
  removeOldBuilds(root, dir)
  return pointer
}

/** Old builds (a daemon started from one may still load its later chunks), and what a killed build left. */
function removeOldBuilds (root, current) {
  const dist = path.join(root, 'dist')
  for (const name of fs.readdirSync(dist)) {
    const unfinished = /^\.daemon-[0-9a-f]{16}-\d+$/.test(name) || /^daemon\.json\.\d+$/.test(name)
    const old = BUILD_DIR.test(name) && name !== current
    if (!unfinished && !old) continue
    const keepFor = unfinished ? UNFINISHED_MS : KEEP_OLD_BUILDS_MS
    const at = path.join(dist, name)
    const age = Date.now() - (fs.statSync(at, { throwIfNoEntry: false })?.mtimeMs ?? Date.now())
    if (age > keepFor) fs.rmSync(at, { recursive: true, force: true })
  }
}

try {
  const pointer = await buildDaemon(process.argv[2] ?? ROOT)
  process.stdout.write(`dist/${pointer.dir}/ (${pointer.inputs.length} files bundled)\n`)
} catch (err) {
  // esbuild's first error says what and where: the first line is what \`samepage start\` shows.
  const first = err.errors?.[0]
  const where = first?.location == null ? '' : ` (${first.location.file}:${first.location.line})`
  process.stderr.write(`${first === undefined ? err.message : first.text + where}\n${err.stack ?? ''}\n`)
  process.exitCode = 1
}
