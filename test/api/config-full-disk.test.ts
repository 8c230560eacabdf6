import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Node } from '../../src/node/index.ts'
import { ApiServer } from '../../src/api/server.ts'
import { fillDisk } from '../helpers/fill-disk.ts'

/**
 * Review L2: commands that change what the node keeps in its data directory (folders.json, deployment.json), run on
 * a full disk. `folder add` answered INTERNAL ("see its log") yet the folder was bound and syncing; adding it again
 * was refused as "already bound", and the next start dropped it (folders.json was never written). `folder remove`
 * had the same shape. Now each is refused with STORAGE_FULL, saying what to do, and takes no effect; the node goes
 * on and the same command works once there is room. The data directory is a small tmpfs (root only); the folder is
 * on another disk, with room.
 */
const LISTEN = ['/ip4/127.0.0.1/tcp/0']

interface Served { node: Node, call: (method: string, route: string, body?: unknown) => Promise<Answer> }
interface Answer { status: number, body: { error?: { code: string, message: string } } & Record<string, unknown> }

async function serve (dir: string): Promise<Served & { close: () => Promise<void> }> {
  const node = Node.open({ dir, listen: LISTEN })
  await node.start()
  const api = new ApiServer({ node, host: '127.0.0.1', port: 0 })
  const { url, token } = await api.start()
  const call = async (method: string, route: string, body?: unknown): Promise<Answer> => {
    const res = await fetch(`${url}${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    return { status: res.status, body: await res.json() as Answer['body'] }
  }
  return { node, call, close: async () => { await api.stop(); await node.stop() } }
}

/** Refused for want of room, saying what to do: the saved file's directory when that is what the disk refused. */
function assertFull (r: Answer, what: string, dir?: string): void {
  assert.equal(r.status, 507, `${what}: ${JSON.stringify(r.body)}`)
  assert.equal(r.body.error?.code, 'STORAGE_FULL', what)
  const says = dir === undefined ? /disk is full.*free some space/ : `free some space in ${dir}, then run the command again`
  assert.ok(r.body.error?.message.match(says), `${what} says what to do: ${r.body.error?.message}`)
}

test('folder add, folder remove and invite on a full data disk: STORAGE_FULL and no effect; they work with room',
  { timeout: 120_000 }, async t => {
    if (process.getuid?.() !== 0) { t.skip('mounting a tmpfs needs root'); return }
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-config-full-'))
    const mount = path.join(root, 'disk')
    fs.mkdirSync(mount)
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mount])
    if (m.status !== 0) {
      fs.rmSync(root, { recursive: true, force: true })
      t.skip(`cannot mount a small tmpfs here (${m.stderr.toString().trim()})`)
      return
    }
    const dir = path.join(mount, 'node')
    const folder = path.join(root, 'shared')
    fs.mkdirSync(folder)
    fs.writeFileSync(path.join(folder, 'a.txt'), 'hello')
    const filler = path.join(mount, 'filler')
    let served: Awaited<ReturnType<typeof serve>> | undefined
    try {
      served = await serve(dir)
      const { id } = served.node.createSpace('team')
      const restart = async (): Promise<Served> => {
        await served?.close()
        served = undefined
        served = await serve(dir)
        return served
      }

      fillDisk(filler)
      const add = await served.call('POST', '/v1/folders', { space: id, path: folder })
      assertFull(add, 'folder add', dir)
      assert.deepEqual((await served.call('GET', '/v1/folders')).body, [], 'refused, so not bound')
      // The store's commit of the deployment's space, or deployment.json, whichever the disk refuses first.
      assertFull(await served.call('POST', `/v1/spaces/${id}/invites`, { role: 'writer' }), 'an invite')
      assert.deepEqual(served.node.spaces().map(s => s.name), ['team'], 'no status space of a deployment half made')
      fs.rmSync(filler)

      assert.equal((await served.call('POST', '/v1/folders', { space: id, path: folder })).status, 200,
        'with room, the same add is taken')
      assert.equal((await served.call('POST', `/v1/spaces/${id}/invites`, { role: 'writer' })).status, 200)
      let s = await restart()
      const bound = (await s.call('GET', '/v1/folders')).body as unknown as { path: string }[]
      assert.deepEqual(bound.map(f => f.path), [folder], 'kept across a restart')
      assert.deepEqual(s.node.spaces().map(x => x.name), ['team'])

      fillDisk(filler)
      assertFull(await s.call('DELETE', `/v1/spaces/${id}/folder`), 'folder remove', dir)
      assert.equal((await s.call('GET', `/v1/spaces/${id}/folder`)).status, 200, 'refused, so still bound')
      fs.rmSync(filler)
      s = await restart()
      assert.equal((await s.call('GET', `/v1/spaces/${id}/folder`)).status, 200, 'still bound after a restart')
      assert.equal((await s.call('DELETE', `/v1/spaces/${id}/folder`)).status, 200, 'with room, the remove is taken')
      s = await restart()
      assert.deepEqual((await s.call('GET', '/v1/folders')).body, [], 'and kept across a restart')
    } finally {
      await served?.close()
      spawnSync('umount', [mount])
      fs.rmSync(root, { recursive: true, force: true })
    }
  })
