import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Node, readConfig } from '../../src/node/index.ts'
import type { NodeOptions } from '../../src/node/index.ts'
import { waitFor } from '../files/tree.ts'

/**
 * The connection encrypter on real nodes (libp2p over TCP on 127.0.0.1):
 * two nodes that both offer TLS talk TLS and sync; a node that offers only
 * Noise still connects and syncs, dialling or dialled; a dial to a peer id
 * answered by a node holding another key is refused over either encrypter.
 */
const TLS = '/tls/1.0.0'
const NOISE = '/noise'
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-encrypters-'))
const started: Node[] = []
after(async () => {
  for (const n of started) await n.stop()
  fs.rmSync(root, { recursive: true, force: true })
})

async function startNode (name: string, opts: Partial<NodeOptions> = {}): Promise<Node> {
  const node = Node.open({ dir: path.join(root, name), ...opts })
  started.push(node)
  await node.start()
  return node
}

/** `joiner` joins a space of `owner` (so the joiner dials), then a kv write on the owner reaches it. */
async function joinAndSync (owner: Node, joiner: Node, key: string): Promise<void> {
  const space = owner.createSpace(`space-${key}`).id
  const { token } = owner.invite(space, 'writer', 1, 3_600_000)
  await joiner.join(token)
  owner.kvPut(space, key, { from: owner.peerId })
  await waitFor(() => joiner.kvList(space).some(e => e.key === key), 60_000, () => `${key} did not reach the joiner`)
  assert.deepEqual(joiner.kvGet(space, key).value, { from: owner.peerId })
}

function encryptionWith (node: Node, peer: Node): string | null | undefined {
  return node.peers().find(p => p.peerId === peer.peerId)?.encryption
}

describe('connection encrypters, two real nodes', { timeout: 600_000 }, () => {
  test('two nodes offering TLS first agree on TLS, on both sides, and sync kv', { timeout: 120_000 }, async () => {
    const a = await startNode('tls-a')
    const b = await startNode('tls-b')
    await joinAndSync(a, b, 'over-tls')
    assert.equal(encryptionWith(a, b), TLS)
    assert.equal(encryptionWith(b, a), TLS)
  })

  test('a Noise-only node dialling a TLS-and-Noise node is answered in Noise, and they sync', { timeout: 120_000 }, async () => {
    const both = await startNode('both-1')
    const noiseOnly = await startNode('noise-1', { encrypters: ['noise'] })
    await joinAndSync(both, noiseOnly, 'noise-dials')
    assert.equal(encryptionWith(both, noiseOnly), NOISE)
    assert.equal(encryptionWith(noiseOnly, both), NOISE)
  })

  test('a TLS-and-Noise node dialling a Noise-only node falls back to Noise, and they sync', { timeout: 120_000 }, async () => {
    const noiseOnly = await startNode('noise-2', { encrypters: ['noise'] })
    const both = await startNode('both-2')
    await joinAndSync(noiseOnly, both, 'tls-dials')
    assert.equal(encryptionWith(both, noiseOnly), NOISE)
    assert.equal(encryptionWith(noiseOnly, both), NOISE)
  })

  for (const encrypters of [['tls'], ['noise']] as const) {
    test(`over ${encrypters[0]}: a dial to a peer id answered by another key is refused, and no session opens`, { timeout: 120_000 }, async () => {
      const listener = await startNode(`listener-${encrypters[0]}`, { encrypters })
      const claimed = await startNode(`claimed-${encrypters[0]}`, { encrypters })
      const dialler = await startNode(`dialler-${encrypters[0]}`, { encrypters })
      const tcp = (listener.id().addrs[0] as string).split('/p2p/')[0] as string
      // The key the listener proves is not the claimed one: TLS says "Unexpected Peer", Noise names both keys.
      await assert.rejects(dialler.dial(`${tcp}/p2p/${claimed.peerId}`), (err: Error & { code?: string }) =>
        err.code === 'PEER_UNREACHABLE' && (err.cause as Error).name === 'EncryptionFailedError' &&
        /Unexpected Peer|does not match expected remote identity key/.test(err.message))
      assert.deepEqual(dialler.peers(), [])
      await dialler.dial(`${tcp}/p2p/${listener.peerId}`)
      await waitFor(() => encryptionWith(dialler, listener) !== undefined, 60_000, () => 'the honest dial did not open a session')
      assert.equal(encryptionWith(dialler, listener), encrypters[0] === 'tls' ? TLS : NOISE)
    })
  }
})

test('config.json "encrypters": a preference list of "tls" and "noise", anything else refused naming the field', () => {
  const dir = path.join(root, 'config')
  fs.mkdirSync(dir, { recursive: true })
  const write = (encrypters: unknown): void => {
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ encrypters }))
  }
  write(['noise', 'tls'])
  assert.deepEqual(readConfig(dir).encrypters, ['noise', 'tls'])
  write(['tls'])
  assert.deepEqual(readConfig(dir).encrypters, ['tls'])
  for (const bad of [[], ['tls', 'tls'], ['ssl'], 'tls', [1]]) {
    write(bad)
    assert.throws(() => readConfig(dir), /"encrypters" must list "tls" and\/or "noise"/, JSON.stringify(bad))
  }
  fs.writeFileSync(path.join(dir, 'config.json'), '{}')
  assert.equal(readConfig(dir).encrypters, undefined)
})
