import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

/**
 * A client command (one the daemon answers over its API) loads no daemon
 * code, no libp2p, no SQLite and no native addon: that is what lets the
 * command line answer in a fraction of a second (issue 14). Each command runs
 * as a user runs it, against a data directory with no daemon, so it goes all
 * the way to its API call and stops there with "no daemon running"; a hook
 * preloaded with --import (test/helpers/record-modules.ts) records every
 * module it resolved. The test checks that set, never a time.
 */
const ROOT = fs.realpathSync(path.join(import.meta.dirname, '..', '..'))
const BIN = path.join(ROOT, 'bin', 'samepage.js')
const RECORDER = path.join(ROOT, 'test', 'helpers', 'record-modules.ts')
/** Not a timing: only there so that a command that hangs fails the test instead of stalling it. */
const SAFETY_NET_MS = 120_000
const SRC = pathToFileURL(path.join(ROOT, 'src')).href + '/'

/** The part of src/ a client command may load: the CLI but `start`, api/'s light index, the pure bottom layers. */
const CLIENT_SIDE = [/^cli\/(?!start\.ts$)/, /^api\/(index|address|version)\.ts$/, /^api\/dashboard\/format\.js$/, /^(codec|ids)\//]

/** Outside src/: what a client command must not load, by name. */
const FORBIDDEN: ReadonlyArray<[RegExp, string]> = [
  [/^node:sqlite$/, 'SQLite'],
  [/\/node_modules\/(libp2p|@libp2p\/[^/]+|@chainsafe\/[^/]+)\//, 'libp2p'],
  [/\.node$|\/node_modules\/(sodium-native|@parcel\/watcher|node-gyp-build|require-addon)\//, 'a native addon']
]

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-cli-loads-'))
const dir = path.join(root, 'never-started')
after(() => { fs.rmSync(root, { recursive: true, force: true }) })

interface Run { code: number | null, stdout: string, stderr: string, modules: string[] }

function run (...args: string[]): Run {
  return runWith({}, ...args)
}

function runWith (env: Record<string, string>, ...args: string[]): Run {
  const record = path.join(root, `modules-${args.join('-').replace(/[^\w-]/g, '_')}.txt`)
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(RECORDER).href, BIN, '--dir', dir, ...args], {
    encoding: 'utf8',
    timeout: SAFETY_NET_MS,
    env: { ...process.env, ...env, SAMEPAGE_RECORD_MODULES: record }
  })
  const modules = fs.readFileSync(record, 'utf8').split('\n').filter(line => line !== '')
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, modules }
}

/** Why each module of `modules` should not be there; empty when all may be. */
function daemonSide (modules: readonly string[]): string[] {
  const problems: string[] = []
  for (const url of modules) {
    if (url.startsWith(SRC)) {
      const rel = url.slice(SRC.length)
      if (!CLIENT_SIDE.some(allowed => allowed.test(rel))) problems.push(`src/${rel}: daemon code`)
      continue
    }
    for (const [pattern, what] of FORBIDDEN) if (pattern.test(url)) problems.push(`${url}: ${what}`)
  }
  return problems
}

const CLIENT_COMMANDS: readonly string[][] = [
  ['id'], ['status'], ['peers'], ['net'], ['alerts'], ['stats'], ['misbehaviour'], ['dashboard'],
  ['space', 'list'], ['kv', 'list', 'team'], ['kv', 'put', 'team', 'k', 'v'], ['counter', 'get', 'team', 'c'],
  ['ledger', 'append', 'team', '{"amount": 5}'], ['folder', 'status', 'team'], ['folder', 'list'],
  ['conflicts', 'team'], ['resolve', 'team', 'a.txt', 'a.sync-conflict-20261201-213000-ABCDEF0.txt'],
  ['backup', path.join(root, 'backup.db')], ['stop']
]

test('a client command loads no daemon code, no libp2p, no SQLite and no native addon', () => {
  for (const args of CLIENT_COMMANDS) {
    const r = run('--json', ...args)
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, /no samepage daemon is running for/, args.join(' '))
    assert.ok(r.modules.some(url => url.endsWith('/src/cli/main.ts')), `${args.join(' ')}: the recorder saw main.ts`)
    assert.deepEqual(daemonSide(r.modules), [], `samepage ${args.join(' ')} loads only the client side`)
  }
  const help = run('--help')
  assert.equal(help.code, 0)
  assert.deepEqual(daemonSide(help.modules), [], 'samepage --help loads only the client side')
})

test('--version prints package.json\'s version (JSON under --json) and loads only the client side', () => {
  const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }
  const plain = run('--version')
  assert.equal(plain.code, 0, plain.stderr)
  assert.equal(plain.stdout, `${version}\n`)
  assert.deepEqual(daemonSide(plain.modules), [], 'samepage --version loads only the client side')
  const json = run('-V', '--json')
  assert.equal(json.code, 0, json.stderr)
  assert.deepEqual(JSON.parse(json.stdout), { version })
})

test('the rule sees the daemon side when it is loaded: `start` loads src/node/ and libp2p', () => {
  // A bad --api stops `start` after it loaded the daemon and before it opened anything. From the source: the rule
  // names source modules, and `start` otherwise runs the daemon's bundle (lib/daemon-bundle.js).
  const r = runWith({ SAMEPAGE_DAEMON_FROM_SOURCE: '1' }, 'start', '--api', 'nowhere')
  assert.equal(r.code, 2, r.stderr)
  assert.match(r.stderr, /--api "nowhere" is not HOST:PORT/)
  const problems = daemonSide(r.modules)
  assert.ok(problems.some(p => p.startsWith('src/node/')), 'src/node/ is seen')
  assert.ok(problems.some(p => p.endsWith(': libp2p')), 'libp2p is seen')
})
