import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { pathToFileURL } from 'node:url'

/**
 * An idle daemon does not load what only a client's request needs (issue 14,
 * docs/architecture.md "Memory"): routes.ts's calls with their zod schemas,
 * the OpenAPI document and ws load at the first request for them. The daemon
 * runs as a user runs it (bin/samepage.js start), answers a health probe (one
 * of the server's own paths), and stops; a hook preloaded with --import
 * (test/helpers/record-modules.ts) records every module it resolved. The test
 * checks that set, never a time.
 */
const ROOT = fs.realpathSync(path.join(import.meta.dirname, '..', '..'))
const BIN = path.join(ROOT, 'bin', 'samepage.js')
const RECORDER = path.join(ROOT, 'test', 'helpers', 'record-modules.ts')
/** Not a timing: only there so that a daemon that never comes up fails the test instead of stalling it. */
const SAFETY_NET_MS = 120_000

const LATE: ReadonlyArray<[RegExp, string]> = [
  [/\/node_modules\/zod\//, 'zod'],
  [/\/node_modules\/ws\//, 'ws'],
  [/\/src\/api\/(routes|route-table|openapi|response-schemas)\.ts$/, 'the API\'s calls or its description']
]

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-idle-loads-'))
after(() => { fs.rmSync(root, { recursive: true, force: true }) })

test('a started daemon that answered only a health probe has loaded no zod, no ws, no call table', async () => {
  const record = path.join(root, 'modules.txt')
  const child = spawn(process.execPath, [
    '--import', pathToFileURL(RECORDER).href, BIN, '--dir', path.join(root, 'data'), '--json', 'start',
    '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0'
  ], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SAMEPAGE_RECORD_MODULES: record } })
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
  const modules = fs.readFileSync(record, 'utf8').split('\n').filter(line => line !== '')
  assert.ok(modules.some(url => url.includes('/node_modules/libp2p/')), 'the recorder saw the daemon load libp2p')
  const early = modules.flatMap(url => LATE.filter(([re]) => re.test(url)).map(([, what]) => `${what}: ${url}`))
  assert.deepEqual(early, [])
})
