import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { eventually, ok, ON_LOOPBACK, startDaemon, stop, tempRoot } from '../e2e/harness.ts'
import type { Daemon } from '../e2e/harness.ts'

/**
 * Review L3: anyone on the machine can open TCP connections to the API port (no token is needed to connect).
 * 80 idle ones took every descriptor of a daemon limited to 64 open files, and it died within a second (its
 * alert check's EMFILE). Now the API holds at most a quarter of the limit (16 here): past that, the oldest
 * connection that sent no request is closed to make room, so the CLI still gets in while they are held; and a
 * connection that sends no request headers within 10 s is closed by the server.
 */
const LIMIT = 64
const HELD = 80
const root = tempRoot()
let d: Daemon | undefined
const sockets: net.Socket[] = []
after(async () => {
  for (const s of sockets) s.destroy()
  if (d !== undefined) await stop(d).catch(() => {})
  fs.rmSync(root, { recursive: true, force: true })
})
const skip = spawnSync('prlimit', ['--version']).error === undefined ? false : 'prlimit is not installed (util-linux)'

test('idle connections to the API take neither the daemon\'s descriptors nor the CLI\'s way in', { skip }, async () => {
  const dir = path.join(root, 'n')
  d = await startDaemon(dir, [...ON_LOOPBACK], ['prlimit', `--nofile=${LIMIT}:${LIMIT}`])
  const api = new URL(JSON.parse(fs.readFileSync(path.join(dir, 'api.json'), 'utf8')).url as string)
  let exit: string | null = null
  let stderr = ''
  d.child.stderr?.on('data', (b: Buffer) => { stderr = (stderr + b.toString()).slice(-100_000) })
  d.child.once('exit', (code, signal) => { exit = `exit ${code} ${signal}` })
  let closed = 0
  for (let i = 0; i < HELD; i++) {
    const s = net.connect(Number(api.port), '127.0.0.1')
    s.on('error', () => {})
    s.once('close', () => { closed++ })
    sockets.push(s)
  }
  await Promise.all(sockets.map(async s => await new Promise(resolve => {
    s.once('connect', resolve)
    s.once('close', resolve)
  })))
  // While they are held, a command gets in: the oldest connection that sent nothing made room for it.
  assert.ok(ok(dir, 'id').peerId, 'the CLI answers while strangers hold idle connections')
  await eventually('the connections past the cap closed by the daemon', () => HELD - closed, held => held <= LIMIT / 4)
  assert.match(stderr, /the API holds 16 connections, its most/)
  // The rest go too: none of them sent its request's headers in time.
  await eventually('every idle connection closed by the daemon', () => closed, n => n === HELD)
  assert.equal(exit, null, `the daemon died:\n${stderr.slice(-2000)}`)
  assert.ok(ok(dir, 'id').peerId, 'and answers after')
})
