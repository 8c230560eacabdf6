import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { rememberPort, stablePort } from '../../src/node/index.ts'

/**
 * The stable-port rule with real sockets, on 127.0.0.1 only: the default
 * taken → the next free one; remembered → the same one at the next start,
 * even once the default is free again. The "default" here is a port the
 * system gave this test (held by it), so no fixed port is ever bound and
 * tests running side by side cannot collide.
 */
const HOST = '127.0.0.1'
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-ports-'))
const held: net.Server[] = []
after(async () => {
  for (const s of held) await new Promise(resolve => s.close(resolve))
  fs.rmSync(root, { recursive: true, force: true })
})

async function hold (port: number): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host: HOST, port, exclusive: true }, () => resolve())
  })
  held.push(server)
  return (server.address() as net.AddressInfo).port
}

async function release (port: number): Promise<void> {
  const i = held.findIndex(s => (s.address() as net.AddressInfo).port === port)
  const [server] = held.splice(i, 1)
  await new Promise(resolve => server!.close(resolve))
}

async function inUse (port: number): Promise<boolean> {
  try {
    await hold(port)
    await release(port)
    return false
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'EADDRINUSE')
    return true
  }
}

test('the default taken: the next free port above it; that port is kept at the next start', async () => {
  const dir = path.join(root, 'a')
  fs.mkdirSync(dir)
  const first = await hold(0)
  const got = await stablePort(dir, 'listen', HOST, first)
  assert.ok(got > first && got < first + 16, `${got} is one of the 15 ports after ${first}`)
  for (let p = first + 1; p < got; p++) assert.ok(await inUse(p), `${p}, below the port chosen, was taken`)
  rememberPort(dir, 'listen', got)
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'ports.json'), 'utf8')), { listen: got })

  await release(first) // the default is free again; the node restarts
  assert.equal(await stablePort(dir, 'listen', HOST, first), got, 'restarted: the port it had, not the default')
  assert.equal(await stablePort(path.join(root, 'fresh'), 'listen', HOST, first), first, 'a new node: the default')
})

test('the remembered port taken: the default again (and the API\'s port is remembered beside the peers\')', async () => {
  const dir = path.join(root, 'b')
  fs.mkdirSync(dir)
  const first = await hold(0)
  await release(first)
  const remembered = await hold(0)
  rememberPort(dir, 'listen', 1234)
  rememberPort(dir, 'api', remembered)
  assert.notEqual(await stablePort(dir, 'api', HOST, first), remembered)
  assert.equal(await stablePort(dir, 'api', HOST, first), first)
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'ports.json'), 'utf8')), { listen: 1234, api: remembered })
})

test('a ports.json that holds no ports (edited by hand) counts as none', async () => {
  const dir = path.join(root, 'c')
  fs.mkdirSync(dir)
  const first = await hold(0)
  await release(first)
  for (const text of ['{not json', '[]', '{"listen": "4815"}', '{"listen": 70000}']) {
    fs.writeFileSync(path.join(dir, 'ports.json'), text)
    assert.equal(await stablePort(dir, 'listen', HOST, first), first, text)
  }
})
