import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { cli, startDaemon, stop, tempRoot } from './harness.ts'

/**
 * README: "a stopped node's directory can simply be copied". A daemon that
 * crashed leaves api.json, and its token is kept across restarts, so a copy
 * of its directory carries both; once the original runs again on its stable
 * API port, a command given to the copy (which runs nowhere) reached the
 * original's daemon: `samepage --dir COPY stop` stopped the original. Each
 * start numbers its run in api.json and the daemon refuses a request naming
 * another run (api/address.ts): the copy's commands say NOT_RUNNING.
 */
async function freePort (): Promise<number> {
  const s = net.createServer()
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', () => resolve()))
  const port = (s.address() as net.AddressInfo).port
  await new Promise<void>(resolve => s.close(() => resolve()))
  return port
}

test('a copied data directory whose api.json a crash left: its commands never reach the original\'s daemon', { timeout: 300_000 }, async t => {
  const root = tempRoot()
  t.after(() => { fs.rmSync(root, { recursive: true, force: true }) })
  const orig = path.join(root, 'node')
  const copy = path.join(root, 'node-copy')
  const api = `127.0.0.1:${await freePort()}` // the same API port at every start, as ports.json keeps it
  const listen = ['--listen', '/ip4/127.0.0.1/tcp/0', '--api', api]
  let d = await startDaemon(orig, listen)
  try {
    await stop(d, 'SIGKILL') // a crash: api.json stays
    fs.cpSync(orig, copy, { recursive: true })
    d = await startDaemon(orig, listen)
    const r = cli(copy, 'stop')
    assert.equal(r.code, 1, r.stdout)
    assert.equal(r.json.error.code, 'NOT_RUNNING', r.stdout)
    assert.match(r.stderr, new RegExp(`no samepage daemon is running for ${copy.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')};`))
    const id = cli(copy, 'id')
    assert.equal(id.json.error.code, 'NOT_RUNNING', 'a read is refused too')
    const own = cli(orig, 'id')
    assert.equal(own.code, 0, `the original still runs and answers its own directory's commands: ${own.stderr}`)
  } finally {
    await stop(d).catch(() => {})
  }
})
