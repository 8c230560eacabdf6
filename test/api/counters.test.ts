/**
 * `counter add` either takes effect or says why not (review A, defect 3):
 * an add of 0 is refused (BAD_INPUT, exit 2 at the command line), and adds
 * past 2^53 are counted exactly, the value then shown as a string of digits.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { apiNode } from './api-node.ts'
import { cli } from '../e2e/harness.ts'

const MAX = Number.MAX_SAFE_INTEGER

test('counter add 0 is refused by the API, and nothing is written', async (t) => {
  const { node, url, auth } = await apiNode(t)
  const { id } = node.createSpace('team')
  const heads = { ...auth, 'content-type': 'application/json' }
  const res = await fetch(`${url}/v1/spaces/${id}/counters/visits`,
    { method: 'POST', headers: heads, body: '{"delta": 0}' })
  assert.equal(res.status, 400)
  const body = await res.json() as { error: { code: string, message: string } }
  assert.equal(body.error.code, 'BAD_INPUT')
  assert.match(body.error.message, /counter add 0 changes nothing/)
  assert.throws(() => { node.counterAdd(id, 'visits', 0) }, { code: 'BAD_INPUT' })
  assert.equal(node.writeStats().written, 0, 'no entry was written for the add of 0')
})

test('adds past 2^53 are counted: the value is exact, shown as a string past 2^53', async (t) => {
  const { node, url, auth } = await apiNode(t)
  const { id } = node.createSpace('team')
  const get = async (): Promise<unknown> => {
    const res = await fetch(`${url}/v1/spaces/${id}/counters/stock`, { headers: auth })
    return ((await res.json()) as { value: unknown }).value
  }
  const add = async (delta: number): Promise<void> => {
    const res = await fetch(`${url}/v1/spaces/${id}/counters/stock`,
      { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ delta }) })
    assert.equal(res.status, 200, await res.text())
  }
  await add(MAX)
  assert.equal(await get(), MAX)
  await add(5)
  assert.equal(await get(), (BigInt(MAX) + 5n).toString())
  await add(MAX)
  await add(-1)
  assert.equal(await get(), (2n * BigInt(MAX) + 4n).toString())
  await add(-MAX)
  await add(-MAX)
  assert.equal(await get(), 4)
})

test('the command line refuses counter add 0 itself (exit 2), before asking a daemon', () => {
  const r = cli('/nonexistent-samepage-dir', 'counter', 'add', 'team', 'visits', '0')
  assert.equal(r.code, 2, r.stderr)
  assert.match(r.stderr + r.stdout, /counter add 0 changes nothing/)
  assert.equal(cli('/nonexistent-samepage-dir', 'counter', 'add', 'team', 'visits', '-0').code, 2)
})
