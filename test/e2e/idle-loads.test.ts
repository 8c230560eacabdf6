import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { pathToFileURL } from 'node:url'
import { BUNDLED_FROM } from '../../lib/daemon-bundle.js'

/**
 * An idle daemon does not load what only a client's request needs (issue 14,
 * docs/architecture.md "Memory"): routes.ts's calls with their zod schemas,
 * the OpenAPI document and ws load at the first request for them, the
 * folder watcher with the first folder shared, prom-client with the first
 * scrape of /metrics, and Node's TLS and zlib with the first connection and
 * chunk check (each ~1–4 MB of an idle daemon's memory). The daemon
 * runs as a user runs it (bin/samepage.js start), answers a health probe (one
 * of the server's own paths), and stops; a hook preloaded with --import
 * (test/helpers/record-modules.ts) records every module it resolved. The test
 * checks that set, never a time: from the bundle `samepage start` runs
 * (lib/daemon-bundle.js; each of its files says which sources it holds), and
 * from the source as SAMEPAGE_DAEMON_FROM_SOURCE=1 runs it.
 */
const ROOT = fs.realpathSync(path.join(import.meta.dirname, '..', '..'))
const BIN = path.join(ROOT, 'bin', 'samepage.js')
const RECORDER = path.join(ROOT, 'test', 'helpers', 'record-modules.ts')
/** Not a timing: only there so that a daemon that never comes up fails the test instead of stalling it. */
const SAFETY_NET_MS = 120_000

const LATE: ReadonlyArray<[RegExp, string]> = [
  [/\/node_modules\/zod\//, 'zod'],
  [/\/node_modules\/ws\//, 'ws'],
  [/\/node_modules\/@parcel\/watcher\//, '@parcel/watcher (the folder watcher, loaded with the first folder)'],
  [/\/src\/api\/(routes|route-table|openapi|response-schemas)\.ts$/, 'the API\'s calls or its description'],
  [/\/node_modules\/prom-client\//, 'prom-client (loaded at the first scrape)'],
  [/\/src\/api\/metrics\.ts$/, 'the /metrics renderer'],
  [/^node:(tls|https|zlib)$/, 'Node\'s TLS or zlib'],
  [/\/node_modules\/(@libp2p\/mdns|multicast-dns)\//, 'multicast DNS (loaded only when it is on)']
]

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-idle-loads-'))
after(() => { fs.rmSync(root, { recursive: true, force: true }) })

for (const from of ['bundle', 'source'] as const) {
  test(`a started daemon (${from}) that answered only a health probe loaded no zod, ws, calls, watcher, prom-client, TLS or zlib`,
    async () => {
      // Its own temporary directory, to see whether it kept Node's compile cache there (bin/samepage.js: the source
      // does, the bundle does not).
      const tmp = path.join(root, `${from}-tmp`)
      fs.mkdirSync(tmp)
      const env = { TMPDIR: tmp, ...from === 'source' ? { SAMEPAGE_DAEMON_FROM_SOURCE: '1' } : {} }
      const loaded = await sourcesLoaded(path.join(root, from), env)
      const bundled = loaded.some(url => url.includes('/dist/daemon-'))
      assert.equal(bundled, from === 'bundle', `the daemon ran from its ${from}`)
      assert.ok(loaded.some(url => url.includes('/node_modules/libp2p/')), 'the recorder saw the daemon load libp2p')
      const early = loaded.flatMap(url => LATE.filter(([re]) => re.test(url)).map(([, what]) => `${what}: ${url}`))
      assert.deepEqual(early, [])
      const cached = fs.existsSync(path.join(tmp, 'node-compile-cache'))
      assert.equal(cached, from === 'source', `the daemon from its ${from} ${cached ? 'kept' : 'did not keep'} a compile cache`)
    })
}

/**
 * Starts a daemon as a user does, asks for its health, stops it: the modules it resolved, each file of a bundle
 * followed by the sources it holds (as file: URLs, as the source's own would be).
 */
async function sourcesLoaded (dir: string, env: Record<string, string>): Promise<string[]> {
  const record = path.join(dir + '-modules.txt')
  const child = spawn(process.execPath, [
    '--import', pathToFileURL(RECORDER).href, BIN, '--dir', dir, '--json', 'start',
    '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0'
  ], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...withoutCompileCache(process.env), ...env, SAMEPAGE_RECORD_MODULES: record } })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  const safety = setTimeout(() => child.kill('SIGKILL'), SAFETY_NET_MS)
  try {
    const first = await new Promise<string>((resolve, reject) => {
      readline.createInterface({ input: child.stdout }).once('line', resolve)
      child.once('exit', code => reject(new Error(`the daemon exited with ${code}: ${stderr}`)))
    })
    const { api } = JSON.parse(first) as { api: string }
    const res = await fetch(`${api}/v1/health`)
    assert.equal(res.status, 200)
    assert.equal(((await res.json()) as { status: string }).status, 'ok')
    child.kill('SIGTERM')
    assert.equal(await exited, 0, stderr)
  } finally {
    clearTimeout(safety)
    child.kill('SIGKILL')
  }
  const urls = fs.readFileSync(record, 'utf8').split('\n').filter(line => line !== '')
  return urls.flatMap(url => {
    const inBuild = /\/dist\/(daemon-[0-9a-f]{16})\/([^/]+\.js)$/.exec(url)
    if (inBuild === null) return [url]
    const [, build, file] = inBuild as unknown as [string, string, string]
    const holds = JSON.parse(fs.readFileSync(path.join(ROOT, 'dist', build, BUNDLED_FROM), 'utf8')) as
      Record<string, string[]>
    return [url, ...(holds[file] ?? []).map(source => pathToFileURL(path.join(ROOT, source)).href)]
  })
}

/** The environment less what would turn Node's compile cache on or off whatever bin/samepage.js decides. */
function withoutCompileCache (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_COMPILE_CACHE: _on, NODE_DISABLE_COMPILE_CACHE: _off, ...rest } = env
  return rest
}
