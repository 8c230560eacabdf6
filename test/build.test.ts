import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { startDaemon } from './e2e/harness.ts'

/**
 * Another project installs samepage and writes `import { Node } from
 * '@samepage-sync/samepage'`: Node strips no types under node_modules, so the
 * package ships JS and .d.ts built at pack time (npm run build). Here: build
 * into a scratch folder and use the built Node as plain JavaScript; then the
 * README's library example, verbatim, from a checkout and from a packed
 * tarball; what the tarball holds; `npm install -g` of it (into a prefix of
 * the test's own) running a daemon and the README's first commands; and that
 * a checkout never runs a stale dist/ (lib/tree.js).
 */
test('the library builds to JS and types, and the built Node runs', { timeout: 600_000 }, async () => {
  const root = path.join(import.meta.dirname, '..')
  const out = path.join(root, '.build-test')
  fs.rmSync(out, { recursive: true, force: true })
  try {
    execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.build.json'), '--outDir', out], { stdio: 'pipe' })
    assert.ok(fs.existsSync(path.join(out, 'node', 'index.d.ts')), 'types are emitted')
    const js = fs.readFileSync(path.join(out, 'node', 'node.js'), 'utf8')
    assert.doesNotMatch(js, /from '\.[^']*\.ts'/, 'relative imports are rewritten to .js')
    const lib = await import(path.join(out, 'node', 'index.js')) as typeof import('../src/node/index.ts')
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-lib-'))
    const node = lib.Node.open({ dir })
    try {
      const { id } = node.createSpace('from-the-library')
      node.kvPut(id, 'k', 'v')
      assert.deepEqual(node.kvGet(id, 'k'), { key: 'k', value: 'v' })
      assert.match(node.peerId, /^12D3KooW/)
    } finally {
      await node.stop()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true })
  }
})

const ROOT = path.join(import.meta.dirname, '..')
const PACKAGE = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as
  { name: string, version: string }
const PRINTED = "{ key: 'greeting', value: 'hello' }\n"

/** The README's library example as the README has it: the first ```ts block under "## Use it as a library". */
function readmeExample (): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Use it as a library'))
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1]
  assert.ok(block !== undefined, 'the README has a ts block under "## Use it as a library"')
  assert.ok(block.includes(`from '${PACKAGE.name}'`), `the example imports the package by its name, ${PACKAGE.name}`)
  return block
}

/** Writes the example as `dir/example.ts` and runs it; its temp data folder goes in `tmp`. */
function runExample (dir: string, tmp: string): { code: number | null, stdout: string, stderr: string } {
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'example.ts'), readmeExample())
  const r = spawnSync(process.execPath, [path.join(dir, 'example.ts')], {
    cwd: dir, encoding: 'utf8', timeout: 120_000, env: { ...process.env, TMPDIR: tmp }
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

function samepage (bin: string, ...args: string[]): { code: number | null, stdout: string, stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** A project that depends on the package: node_modules/SCOPE/NAME is `install(target)`, and a package.json. */
function project (dir: string, install: (target: string) => void): string {
  const target = path.join(dir, 'node_modules', ...PACKAGE.name.split('/'))
  fs.mkdirSync(path.dirname(target), { recursive: true })
  install(target)
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }))
  return target
}

test('the README\'s library example runs as written in a checkout, with no build', { timeout: 300_000 }, () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-example-'))
  const inside = fs.mkdtempSync(path.join(ROOT, '.build-test-'))
  try {
    // A file inside the checkout: Node resolves the package's own name.
    const own = runExample(inside, scratch)
    assert.equal(own.code, 0, own.stderr)
    assert.equal(own.stdout, PRINTED)
    // Another project after `npm install /path/to/checkout`: a link, which runs the checkout's source.
    const other = path.join(scratch, 'other-project')
    project(other, target => fs.symlinkSync(ROOT, target))
    const linked = runExample(other, scratch)
    assert.equal(linked.code, 0, linked.stderr)
    assert.equal(linked.stdout, PRINTED)
  } finally {
    fs.rmSync(inside, { recursive: true, force: true })
    fs.rmSync(scratch, { recursive: true, force: true })
  }
})

test('npm pack ships the build and no tests; installed, the command and the README\'s example run from dist/, ' +
  'and a checkout never runs a stale dist/', { timeout: 600_000 }, async () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-pack-'))
  try {
    // A copy of the checkout, packed there: `npm pack` runs prepack (the build) into the copy's dist/, not ours.
    const checkout = path.join(scratch, 'checkout')
    for (const entry of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md',
      'LICENSE', 'bin', 'lib', 'scripts', 'src', 'contrib', 'docs', 'test', 'bench']) {
      fs.cpSync(path.join(ROOT, entry), path.join(checkout, entry), { recursive: true })
    }
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(checkout, 'node_modules'))
    execFileSync('npm', ['pack', '--pack-destination', scratch], { cwd: checkout, stdio: 'pipe' })
    const tarball = path.join(scratch, `${PACKAGE.name.replace('@', '').replace('/', '-')}-${PACKAGE.version}.tgz`)
    assert.ok(fs.existsSync(tarball), `npm pack made ${path.basename(tarball)}`)

    const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).trim().split('\n')
      .map(f => f.replace(/^package\//, ''))
    for (const wanted of ['package.json', 'README.md', 'LICENSE', 'bin/samepage.js', 'lib/index.js', 'lib/tree.js',
      'dist/cli/main.js', 'dist/node/index.js', 'dist/node/index.d.ts', 'src/api/dashboard/index.html',
      'contrib/systemd/samepage.service', 'dist/daemon.json']) {
      assert.ok(files.includes(wanted), `the tarball holds ${wanted}`)
    }
    // The daemon's bundle (lib/daemon-bundle.js), which an installed `samepage start` runs.
    const bundle = files.find(f => /^dist\/daemon-[0-9a-f]{16}\/main\.js$/.test(f))
    assert.ok(bundle !== undefined, 'the tarball holds the daemon\'s bundle')
    assert.ok(files.includes(bundle.replace('main.js', 'hash-worker.js')), 'and its hashing thread beside it')
    for (const file of files) {
      assert.doesNotMatch(file, /^(test|bench)\//, 'no tests or benchmarks ship')
      // lib/tree.js: an installed copy runs dist/ because it has no src/ code.
      assert.ok(!file.startsWith('src/') || file.startsWith('src/api/dashboard/'),
        `${file}: src/ ships only the dashboard`)
    }

    // Installed: the tarball unpacked as npm would, its dependencies beside it (linked from ours: no network).
    const installedProject = path.join(scratch, 'project')
    const installed = project(installedProject, target => {
      fs.mkdirSync(target)
      execFileSync('tar', ['xzf', tarball, '-C', target, '--strip-components=1'])
    })
    for (const dep of fs.readdirSync(path.join(ROOT, 'node_modules'))) {
      if (dep.startsWith('.') || dep === PACKAGE.name.split('/')[0]) continue
      fs.symlinkSync(path.join(ROOT, 'node_modules', dep), path.join(installedProject, 'node_modules', dep))
    }
    // The bin as npm links it (a symlink on the PATH); Node runs the file it points to.
    const link = path.join(installedProject, 'node_modules', '.bin', 'samepage')
    fs.mkdirSync(path.dirname(link))
    fs.symlinkSync(path.join(installed, 'bin', 'samepage.js'), link)
    const version = samepage(link, '--version')
    assert.equal(version.code, 0, version.stderr)
    assert.equal(version.stdout, `${PACKAGE.version}\n`)
    const init = samepage(link, '--dir', path.join(scratch, 'node-data'), 'init')
    assert.equal(init.code, 0, init.stderr)
    assert.match(init.stdout, /12D3KooW/)
    const fromTarball = runExample(installedProject, scratch)
    assert.equal(fromTarball.code, 0, fromTarball.stderr)
    assert.equal(fromTarball.stdout, PRINTED)

    // `npm install -g` of the tarball, for real: into a prefix of its own (not the machine's), its dependencies
    // from npm's cache where `npm ci` left them. The README's first commands then run from that install.
    const prefix = path.join(scratch, 'global')
    execFileSync('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball],
      { stdio: 'pipe', timeout: 300_000 })
    const globalBin = path.join(prefix, 'bin', 'samepage')
    assert.equal(samepage(globalBin, '--version').stdout, `${PACKAGE.version}\n`)
    // Its `samepage start` runs the bundle it shipped (the test's stderr would say if it fell back).
    const daemon = await startDaemon(path.join(scratch, 'global-node'), [], [], globalBin)
    try {
      const run = (...args: string[]): unknown => {
        const r = samepage(globalBin, '--dir', daemon.dir, '--json', ...args)
        assert.equal(r.code, 0, `samepage ${args.join(' ')}: ${r.stderr}`)
        return JSON.parse(r.stdout)
      }
      assert.equal((run('id') as { peerId: string }).peerId, daemon.peerId)
      run('space', 'create', 'notes')
      run('kv', 'put', 'notes', 'greeting', 'hello')
      assert.deepEqual(run('kv', 'get', 'notes', 'greeting'), { key: 'greeting', value: 'hello' })
      const stopped = samepage(globalBin, '--dir', daemon.dir, 'stop')
      assert.equal(stopped.code, 0, stopped.stderr)
    } finally {
      if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL')
    }

    // The copy of the checkout now has a dist/ (prepack built it). Make it stale, loudly: neither runs.
    fs.writeFileSync(path.join(checkout, 'dist', 'cli', 'main.js'), "console.log('the stale build'); process.exit(3)\n")
    fs.writeFileSync(path.join(checkout, 'dist', 'node', 'index.js'), "throw new Error('the stale build')\n")
    const fresh = samepage(path.join(checkout, 'bin', 'samepage.js'), '--version')
    assert.equal(fresh.code, 0, fresh.stderr)
    assert.equal(fresh.stdout, `${PACKAGE.version}\n`, 'the checkout runs src/, not its dist/')
    const freshLibrary = runExample(path.join(checkout, 'examples'), scratch)
    assert.equal(freshLibrary.code, 0, freshLibrary.stderr)
    assert.equal(freshLibrary.stdout, PRINTED)

    // An installed copy with source but no build (say, a git dependency never built) says so and exits 1.
    const unbuilt = path.join(installedProject, 'node_modules', 'unbuilt-samepage')
    for (const entry of ['bin', 'lib', 'src/cli/main.ts']) {
      fs.cpSync(path.join(ROOT, entry), path.join(unbuilt, entry), { recursive: true })
    }
    const refused = samepage(path.join(unbuilt, 'bin', 'samepage.js'), '--version')
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /has no build \(dist\/cli\/main\.js\).*npm pack builds it/)
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true })
  }
})
