import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { z } from 'zod'
import { Node } from '../../src/node/index.ts'
import type { NodeOptions } from '../../src/node/index.ts'
import { ApiServer } from '../../src/api/server.ts'
import { VERSION } from '../../src/api/version.ts'

/**
 * GET /v1/health tells the truth (issue 16 part 3), without the token and
 * with nothing but {status, version}: `failing` and 503 once the node's
 * store takes no writes (a failed sync of the WAL, injected the way
 * test/node/group-commit.test.ts does; a full disk, on a tiny tmpfs),
 * `ok` again once a write succeeds after the disk has room, `degraded`
 * (200) while one of the node's own alerts is open. Each answer is checked
 * against the schema the served document gives for its status.
 */
async function served (
  t: { after: (fn: () => Promise<void>) => void }, opts: Omit<NodeOptions, 'dir'> & { dir?: string } = {}, start = false
): Promise<{ node: Node, url: string, auth: { authorization: string } }> {
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-health-'))
  const node = Node.open({ ...opts, dir })
  if (start) await node.start()
  const api = new ApiServer({ node, host: '127.0.0.1', port: 0 })
  const { url, token } = await api.start()
  t.after(async () => {
    await api.stop()
    await node.stop()
    if (opts.dir === undefined) fs.rmSync(dir, { recursive: true, force: true })
  })
  return { node, url, auth: { authorization: `Bearer ${token}` } }
}

/** The health answer, checked against the document's schema for its HTTP status. */
async function health (url: string): Promise<{ status: number, body: unknown }> {
  const res = await fetch(`${url}/v1/health`) // no token
  const body = await res.json() as unknown
  const doc = await (await fetch(`${url}/v1/openapi.json`)).json() as {
    paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: object }> }> }>>
  }
  const schema = doc.paths['/v1/health']?.['get']?.responses[String(res.status)]?.content['application/json']?.schema
  assert.ok(schema !== undefined, `status ${res.status} of /v1/health is documented`)
  const r = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]).safeParse(body)
  assert.ok(r.success, `the answer fits its document: ${JSON.stringify(body)}`)
  return { status: res.status, body }
}

/** The store's sync of its WAL, failed by the test when it wants. */
class GatedFsync {
  readonly calls: { readonly open: () => void, readonly fail: (e: Error) => void }[] = []
  readonly fsync = async (): Promise<void> => {
    await new Promise<void>((resolve, reject) => { this.calls.push({ open: resolve, fail: reject }) })
  }
}

test('a failed sync of the WAL makes the node failing (503): its store takes no write after it', async t => {
  const gate = new GatedFsync()
  const { node, url, auth } = await served(t, { walFsync: gate.fsync })
  assert.deepEqual(await health(url), { status: 200, body: { status: 'ok', version: VERSION } })
  const { id } = node.createSpace('failing')
  const put = fetch(`${url}/v1/spaces/${id}/kv/k`, {
    method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: '{"value": 1}'
  })
  while (gate.calls.length === 0) await new Promise(resolve => setImmediate(resolve))
  // Not a storage error by its code: the store refuses every commit after it all the same, and health says so.
  gate.calls[0]?.fail(new Error('the disk went away'))
  const answer = await put
  assert.equal(answer.status, 500)
  assert.equal(((await answer.json()) as { error: { code: string } }).error.code, 'STORAGE_FAILED')
  assert.deepEqual(await health(url), { status: 503, body: { status: 'failing', version: VERSION } }, 'nothing else')
  assert.throws(() => { node.kvPut(id, 'again', 2) }, /the disk went away/, 'the store indeed takes no write')
  assert.equal((await health(url)).status, 503, 'and stays failing')
})

test('an alert of the node makes it degraded, still 200', async t => {
  // Every disk is under a free-space threshold of 100%: the disk-full alert opens as the node starts.
  const { url, auth } = await served(t, { alerts: { diskFreePercent: 100 } }, true)
  assert.deepEqual(await health(url), { status: 200, body: { status: 'degraded', version: VERSION } })
  const alerts = await (await fetch(`${url}/v1/alerts`, { headers: auth })).json() as { alerts: { kind: string }[] }
  assert.ok(alerts.alerts.some(a => a.kind === 'disk-full'), 'why is for those with the token')
})

test('a full disk makes the node failing (503); ok again once a write succeeds with room', async t => {
  if (process.getuid?.() !== 0) { t.skip('mounting a tmpfs needs root'); return }
  const mount = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-full-'))
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mount])
  if (m.status !== 0) {
    fs.rmdirSync(mount)
    t.skip(`cannot mount a small tmpfs here (${m.stderr.toString().trim()})`)
    return
  }
  const unmount = (): void => {
    spawnSync('umount', [mount])
    fs.rmSync(mount, { recursive: true, force: true })
  }
  let opened: Awaited<ReturnType<typeof served>>
  try {
    opened = await served(t, { dir: path.join(mount, 'node') })
  } catch (err) {
    unmount()
    throw err
  }
  t.after(unmount) // after hooks run in the order they were added: this one once the node and its API stopped
  const { node, url, auth } = opened
  const { id } = node.createSpace('full')
  const put = async (key: string): Promise<{ status: number, code?: string }> => {
    const res = await fetch(`${url}/v1/spaces/${id}/kv/${key}`, {
      method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ value: 'x'.repeat(60_000) })
    })
    const body = await res.json() as { error?: { code: string } }
    return { status: res.status, ...(body.error === undefined ? {} : { code: body.error.code }) }
  }
  assert.equal((await put('before')).status, 200)
  assert.equal((await health(url)).status, 200)

  const filler = path.join(mount, 'filler')
  const fd = fs.openSync(filler, 'w')
  try {
    const block = Buffer.alloc(4096, 1)
    for (;;) fs.writeSync(fd, block)
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC')
  } finally {
    fs.closeSync(fd)
  }
  assert.deepEqual(await put('full'), { status: 507, code: 'STORAGE_FULL' })
  assert.deepEqual(await health(url), { status: 503, body: { status: 'failing', version: VERSION } })

  fs.rmSync(filler)
  assert.equal((await put('after')).status, 200, 'the disk has room again')
  assert.deepEqual(await health(url), { status: 200, body: { status: 'ok', version: VERSION } })
})
