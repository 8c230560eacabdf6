import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { SAFETY_NET_MS, startDaemon, stop, tempRoot } from './harness.ts'
import type { Daemon } from './harness.ts'

/**
 * Group commit of live writes on a real daemon over its real HTTP API.
 * Concurrent writes all sent while the daemon is stopped (SIGSTOP), so all
 * of them wait to be read at once, not by timing: acknowledged, present and
 * committed in a few group commits (the daemon's own counter, GET
 * /v1/stats), one oversized write refused alone. Then acknowledged means
 * committed (decision 12): writers keep writing, the daemon is SIGKILLed in
 * the middle, and after a restart every acknowledged write is there.
 */
interface Api { readonly url: string, readonly token: string }

function apiOf (dir: string): Api {
  return JSON.parse(fs.readFileSync(path.join(dir, 'api.json'), 'utf8')) as Api
}

/**
 * One HTTP call, on a connection of `agent` (kept alive) or a new one; `sent`
 * is called once the request is in the kernel's buffers.
 */
async function call (
  api: Api, method: string, route: string, body?: unknown, sent?: () => void, agent: http.Agent | false = false
): Promise<{ status: number, json: any }> {
  return await new Promise((resolve, reject) => {
    const req = http.request(`${api.url}${route}`, {
      method, agent, headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' }
    }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) }) })
      res.on('error', reject)
    })
    req.on('error', reject)
    if (sent !== undefined) req.on('finish', sent)
    req.end(body === undefined ? undefined : JSON.stringify(body))
  })
}

function nested (depth: number): unknown {
  let v: unknown = 0
  for (let i = 0; i < depth; i++) v = [v]
  return v
}

const commits = async (api: Api): Promise<number> =>
  ((await call(api, 'GET', '/v1/stats')).json as { writes: { commits: number } }).writes.commits

describe('live writes over the API of a real daemon', { timeout: 600_000 }, () => {
  const root = tempRoot()
  const dir = path.join(root, 'n')
  let daemon: Daemon
  let space = ''

  before(async () => {
    daemon = await startDaemon(dir)
    space = ((await call(apiOf(dir), 'POST', '/v1/spaces', { name: 'live' })).json as { id: string }).id
  })
  after(async () => {
    await stop(daemon)
    fs.rmSync(root, { recursive: true, force: true })
  })

  test('200 writes that arrive together are acknowledged, there, in a few commits; a refused one fails alone', async () => {
    const api = apiOf(dir)
    const before = await commits(api)
    const N = 200
    // Connections of clients that keep them open, as API clients do: the daemon accepts one new connection per
    // turn of its event loop, but reads every request that waits on an open one in the same turn.
    const agent = new http.Agent({ keepAlive: true, maxSockets: N })
    await Promise.all(Array.from({ length: N }, async () => await call(api, 'GET', '/v1/id', undefined, undefined, agent)))
    const pid = daemon.child.pid as number
    process.kill(pid, 'SIGSTOP')
    let sent = 0
    let allSent: () => void = () => {}
    const everySent = new Promise<void>(resolve => { allSent = resolve })
    // Refused when its group commits (it nests too deep to store), and small: every request fits the socket buffers.
    const value = (i: number): unknown => i === 120 ? nested(40) : { i }
    const answers = Array.from({ length: N }, async (_, i) =>
      await call(api, 'PUT', `/v1/spaces/${space}/kv/a${i}`, { value: value(i) }, () => { if (++sent === N) allSent() }, agent))
    await Promise.race([everySent, sleep(SAFETY_NET_MS, undefined, { ref: false })]) // a guard against a hang, never a wait for time
    process.kill(pid, 'SIGCONT')
    const results = await Promise.all(answers)
    agent.destroy()
    for (const [i, r] of results.entries()) {
      if (i === 120) {
        assert.equal(r.status, 400)
        assert.equal(r.json.error.code, 'BAD_INPUT')
        assert.match(r.json.error.message, /nests arrays and maps deeper/)
      } else {
        assert.deepEqual(r, { status: 200, json: { ok: true } }, `write ${i}`)
      }
    }
    const made = (await commits(api)) - before
    assert.ok(made >= 1 && made <= 4, `199 writes read in one turn take one or a few commits, not one each (${made})`)
    const kv = new Map(((await call(api, 'GET', `/v1/spaces/${space}/kv`)).json as { key: string, value: unknown }[])
      .map(r => [r.key, r.value]))
    for (let i = 0; i < N; i++) assert.deepEqual(kv.get(`a${i}`), i === 120 ? undefined : { i })
  })

  test('every write acknowledged before a SIGKILL is there after the restart', async () => {
    const api = apiOf(dir)
    const acknowledged = new Map<string, number>()
    const KILL_AFTER = 400
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 })
    let killed = false
    const writer = async (w: number): Promise<void> => {
      for (let n = 0; !killed; n++) {
        const key = `w${w}-${n}`
        try {
          const r = await call(api, 'PUT', `/v1/spaces/${space}/kv/${key}`, { value: n }, undefined, agent)
          if (r.status === 200) acknowledged.set(key, n) // after the kill too: an answer 200 was sent once committed
        } catch {
          return // the daemon is gone: what was in flight is neither acknowledged nor counted
        }
        if (acknowledged.size >= KILL_AFTER && !killed) {
          killed = true
          daemon.child.kill('SIGKILL')
        }
      }
    }
    const exited = new Promise(resolve => daemon.child.once('exit', resolve))
    await Promise.all(Array.from({ length: 16 }, async (_, w) => { await writer(w) }))
    await exited
    agent.destroy()
    daemon = await startDaemon(dir)
    const kv = new Map(((await call(apiOf(dir), 'GET', `/v1/spaces/${space}/kv`)).json as { key: string, value: unknown }[])
      .map(r => [r.key, r.value]))
    assert.ok(acknowledged.size >= KILL_AFTER)
    const lost = [...acknowledged].filter(([key, n]) => kv.get(key) !== n).map(([key]) => key)
    assert.deepEqual(lost, [], 'no acknowledged write is lost')
  })
})
