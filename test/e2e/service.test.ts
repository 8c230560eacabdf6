import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { spawnSync } from 'node:child_process'
import { BIN, cli, ok, startDaemon, stop, tempRoot } from './harness.ts'
import type { Daemon } from './harness.ts'

/**
 * samepage as a service (issue 16): a real daemon driven the way an operator
 * and a service manager drive it. Usage errors the daemon catches exit 2 and
 * the others 1; SIGHUP neither kills nor stops it; `samepage stop` stops it
 * cleanly and waits for its exit.
 */
describe('a daemon run as a service', { timeout: 600_000 }, () => {
  const root = tempRoot()
  const dir = path.join(root, 'node')
  let daemon: Daemon

  before(async () => {
    daemon = await startDaemon(dir)
    ok(dir, 'space', 'create', 'team')
  })
  after(async () => {
    await stop(daemon)
    fs.rmSync(root, { recursive: true, force: true })
  })

  test('the daemon\'s usage errors exit 2 with their code; the other refusals exit 1', () => {
    const cases: [string[], string, number][] = [
      [['kv', 'put', 'team', 'k'.repeat(2000), 'v'], 'BAD_INPUT', 2],
      [['acl', 'grant', 'team', 'not-a-peer', 'writer'], 'BAD_PEER', 2],
      [['space', 'join', 'hello'], 'BAD_TOKEN', 2],
      [['space', 'invite', 'team', '--role', 'owner'], 'BAD_INPUT', 2],
      [['kv', 'get', 'no-such-space', 'k'], 'UNKNOWN_SPACE', 1],
      [['folder', 'status', 'team'], 'NO_FOLDER', 1]
    ]
    for (const [args, code, exit] of cases) {
      const r = cli(dir, ...args)
      assert.equal(r.code, exit, `${args.join(' ')}: ${r.stderr}`)
      assert.equal(r.json?.error?.code, code, `${args.join(' ')}: ${r.stdout}`)
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line for ${args.join(' ')}: ${r.stderr}`)
    }
  })

  test('SIGHUP is ignored and logged: the daemon keeps running and answering', async () => {
    let stderr = ''
    const logged = new Promise<void>(resolve => {
      daemon.child.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString()
        if (stderr.includes('SIGHUP ignored')) resolve()
      })
    })
    daemon.child.kill('SIGHUP')
    await logged
    assert.match(stderr, /samepage: \S+ SIGHUP ignored \(nothing to reload\): config\.json is read at start/)
    assert.equal(daemon.child.exitCode, null)
    assert.equal(daemon.child.signalCode, null)
    assert.equal(ok(dir, 'id').peerId, daemon.peerId, 'it still answers')
    ok(dir, 'kv', 'put', 'team', 'after-hangup', 'yes')
    assert.equal(ok(dir, 'kv', 'get', 'team', 'after-hangup').value, 'yes')
  })

  test('GET /v1/health answers without a token, with its status and version only', async () => {
    const { url } = JSON.parse(fs.readFileSync(path.join(dir, 'api.json'), 'utf8')) as { url: string }
    const { version } = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    const health = await fetch(`${url}/v1/health`)
    assert.equal(health.status, 200)
    assert.match(health.headers.get('content-type') ?? '', /^application\/json/)
    assert.deepEqual(await health.json(), { status: 'ok', version }, 'nothing else')
    const wrong = await fetch(`${url}/v1/health`, { headers: { authorization: 'Bearer wrong' } })
    assert.deepEqual(await wrong.json(), { status: 'ok', version }, 'a wrong token changes nothing')
    for (const other of ['/v1/id', '/v1/status', '/v1/health/x', '/metrics']) {
      const r = await fetch(`${url}${other}`)
      assert.equal(r.status, 401, `${other} still needs the token`)
      await r.body?.cancel()
    }
    const post = await fetch(`${url}/v1/stop`, { method: 'POST' })
    assert.equal(post.status, 401, 'stop needs the token')
    await post.body?.cancel()
    assert.equal(daemon.child.exitCode, null)
  })

  test('a second space of a name this node holds is refused with NAME_TAKEN; nothing is created', () => {
    const before = ok(dir, 'space', 'list') as unknown[]
    const r = cli(dir, 'space', 'create', 'team')
    assert.equal(r.code, 1, r.stderr)
    assert.equal(r.json.error.code, 'NAME_TAKEN')
    assert.match(r.stderr, /already holds a space named "team" \(\w+\); choose another name/)
    assert.deepEqual(ok(dir, 'space', 'list'), before)
    assert.equal(ok(dir, 'kv', 'get', 'team', 'after-hangup').value, 'yes', '"team" still names one space')
  })

  test('kv and ledger values from a file or stdin; a missing, oversized or binary file is refused and nothing is written', () => {
    const file = path.join(root, 'notes.txt')
    const text = 'line one\nline two, ' + 'x'.repeat(20_000) + '\n' // past what a test would type, kept exactly
    fs.writeFileSync(file, text)
    ok(dir, 'kv', 'put', 'team', 'notes', '--file', file)
    assert.equal(ok(dir, 'kv', 'get', 'team', 'notes').value, text)
    const viaStdin = (...args: string[]): ReturnType<typeof spawnSync> =>
      spawnSync(process.execPath, [BIN, '--dir', dir, '--json', ...args], { input: '{"amount": 7}\n', encoding: 'utf8' })
    assert.equal(viaStdin('kv', 'put', 'team', 'piped', '--file', '-').status, 0)
    assert.equal(ok(dir, 'kv', 'get', 'team', 'piped').value, '{"amount": 7}\n')
    assert.equal(viaStdin('ledger', 'append', 'team', '--file', '-').status, 0)
    assert.deepEqual((ok(dir, 'ledger', 'list', 'team') as unknown[]).at(-1), { amount: 7 })

    fs.writeFileSync(path.join(root, 'big'), Buffer.alloc(2 * 1024 * 1024, 'x'))
    fs.writeFileSync(path.join(root, 'binary'), Buffer.from([0xff, 0xfe, 0x00]))
    const refused: [string[], string, RegExp][] = [
      [['kv', 'put', 'team', 'k', '--file', path.join(root, 'nope')], 'BAD_INPUT', /the value file .*nope does not exist/],
      [['kv', 'put', 'team', 'k', '--file', path.join(root, 'big')], 'BAD_INPUT', /holds over 1 MiB/],
      [['kv', 'put', 'team', 'k', '--file', path.join(root, 'binary')], 'BAD_INPUT', /is not UTF-8 text/],
      [['kv', 'put', 'team', 'k'], 'USAGE', /VALUE is missing/],
      [['kv', 'put', 'team', 'k', 'v', '--file', file], 'USAGE', /give VALUE or --file, not both/],
      [['ledger', 'append', 'team'], 'USAGE', /JSON is missing/]
    ]
    for (const [args, code, pattern] of refused) {
      const r = cli(dir, ...args)
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.equal(r.json?.error?.code, code, args.join(' '))
      assert.match(r.stderr, pattern)
    }
    assert.equal(ok(dir, 'kv', 'get', 'team', 'k').value, null, 'nothing was written')
    assert.equal(daemon.child.exitCode, null, 'the daemon keeps running')
  })

  test('SIGTERM stops the daemon while a client holds a request half sent (a browser tab, a stuck script)', async () => {
    const otherDir = path.join(root, 'held')
    const held = await startDaemon(otherDir)
    const { url } = JSON.parse(fs.readFileSync(path.join(otherDir, 'api.json'), 'utf8')) as { url: string }
    const { hostname, port } = new URL(url)
    const socket = net.connect(Number(port), hostname)
    await once(socket, 'connect')
    socket.on('error', () => {}) // the daemon cuts it: that is the point
    socket.write('GET /v1/health HTTP/1.1\r\nHost: x\r\n') // the headers never end
    const exited = once(held.child, 'exit')
    held.child.kill('SIGTERM')
    const [code] = await exited
    assert.equal(code, 0, 'the daemon exits 0, its stop not held by the open request')
    socket.destroy()
  })

  test('samepage stop: the daemon stops cleanly (no lock, no API file, no WAL left) and stop waits for it', async () => {
    const exited = daemon.child.exitCode === null ? once(daemon.child, 'exit') : Promise.resolve([daemon.child.exitCode])
    const r = cli(dir, 'stop')
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.json.stopped, true)
    assert.equal(r.json.pid, daemon.child.pid)
    // stop returned once the process was gone: its files are already as a clean stop leaves them.
    for (const file of ['daemon.lock', 'api.json', 'store.db-wal']) {
      assert.ok(!fs.existsSync(path.join(dir, file)), `${file} is gone when stop returns`)
    }
    const [code] = await exited
    assert.equal(code, 0, 'the daemon exits 0')
    const again = cli(dir, 'stop')
    assert.equal(again.code, 1)
    assert.equal(again.json.error.code, 'NOT_RUNNING')
    assert.match(again.stderr, /no samepage daemon is running for /)
  })
})
