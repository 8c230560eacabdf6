import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { Node } from '../../src/node/index.ts'
import { hasCode } from '../../src/ids/index.ts'

/**
 * A node never silently takes a new identity (node/store-owner.ts): its store
 * records the key it belongs to, and a data directory whose identity.key is
 * missing or another node's is refused, naming identity.key, with nothing
 * changed; a store made before the record takes the key it is opened with.
 */
const LISTEN = ['/ip4/127.0.0.1/tcp/0']

async function seeded (t: { after: (fn: () => void) => void }): Promise<{ dir: string, peerId: string }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-store-owner-'))
  t.after(() => { fs.rmSync(root, { recursive: true, force: true }) })
  const dir = path.join(root, 'node')
  const node = Node.open({ dir, listen: LISTEN })
  await node.start()
  node.createSpace('team')
  const peerId = node.peerId
  await node.stop()
  return { dir, peerId }
}

async function refusal (dir: string): Promise<Error> {
  let node: Node
  try {
    node = Node.open({ dir, listen: LISTEN })
  } catch (err) {
    return err as Error
  }
  const peerId = node.peerId
  await node.stop()
  assert.fail(`opened as ${peerId}`)
}

test('identity.key of another node beside a store: refused (IDENTITY_MISMATCH), naming both, nothing changed', async t => {
  const { dir, peerId } = await seeded(t)
  const other = await seeded(t)
  const file = path.join(dir, 'identity.key')
  const own = fs.readFileSync(file)
  fs.copyFileSync(path.join(other.dir, 'identity.key'), file) // a restore that put back the wrong key
  const key = fs.readFileSync(file)
  const err = await refusal(dir)
  assert.ok(hasCode(err, 'IDENTITY_MISMATCH'), String(err))
  assert.ok(err.message.startsWith(`${file} is the key of node ${other.peerId}, but ${path.join(dir, 'store.db')} ` +
    `belongs to node ${peerId}`), err.message)
  assert.deepEqual(fs.readFileSync(file), key, 'the key file is left alone')
  // The right key back: the node opens as itself, with its space.
  fs.writeFileSync(file, own)
  const node = Node.open({ dir, listen: LISTEN })
  assert.equal(node.peerId, peerId)
  assert.deepEqual(node.spaces().map(s => [s.name, s.role]), [['team', 'owner']])
  await node.stop()
})

test('identity.key missing beside a store holding its spaces: refused (IDENTITY_MISSING), no key made', async t => {
  const { dir } = await seeded(t)
  fs.rmSync(path.join(dir, 'identity.key'))
  const err = await refusal(dir)
  assert.ok(hasCode(err, 'IDENTITY_MISSING'), String(err))
  assert.match(err.message, /identity\.key is missing/)
  assert.equal(fs.existsSync(path.join(dir, 'identity.key')), false, 'no new key was made')
})

test('a store made before the record (schema 3) takes the key it is opened with, then refuses another', async t => {
  const { dir, peerId } = await seeded(t)
  const db = new DatabaseSync(path.join(dir, 'store.db'))
  db.exec('DROP TABLE meta; PRAGMA user_version = 3')
  db.close()
  const node = Node.open({ dir, listen: LISTEN })
  assert.equal(node.peerId, peerId)
  assert.deepEqual(node.spaces().map(s => [s.name, s.role]), [['team', 'owner']])
  await node.stop()
  const other = await seeded(t)
  fs.copyFileSync(path.join(other.dir, 'identity.key'), path.join(dir, 'identity.key'))
  assert.ok(hasCode(await refusal(dir), 'IDENTITY_MISMATCH'), 'the key of the first open was recorded')
})

test('a store made before the record, opened first with another key: refused, nothing recorded; its own key opens it', async t => {
  // A schema-3 backup restored where a new key was made first (a review's probe): that key was recorded as the
  // store's, the node ran its spaces as a stranger, and the store's own key was refused for good.
  const { dir, peerId } = await seeded(t)
  const db = new DatabaseSync(path.join(dir, 'store.db'))
  db.exec('DROP TABLE meta; PRAGMA user_version = 3')
  db.close()
  const own = fs.readFileSync(path.join(dir, 'identity.key'))
  const other = await seeded(t)
  fs.copyFileSync(path.join(other.dir, 'identity.key'), path.join(dir, 'identity.key'))
  const refused = await refusal(dir)
  assert.ok(hasCode(refused, 'IDENTITY_MISMATCH'), refused.message)
  assert.match(refused.message, /holds no space this key created or wrote in/)
  fs.writeFileSync(path.join(dir, 'identity.key'), own, { mode: 0o600 })
  const node = Node.open({ dir, listen: LISTEN })
  assert.equal(node.peerId, peerId)
  await node.stop()
})
