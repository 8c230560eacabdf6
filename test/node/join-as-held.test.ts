import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Node } from '../../src/node/index.ts'
import { NodeError } from '../../src/node/errors.ts'

/**
 * `space join --as NAME` for a space this node holds already (a join of it still waiting for the inviter): a held
 * space keeps its name (space-set.ts adopt), so the --as was dropped and the join answered as if it had been taken.
 * A command either takes effect or says why not: the join is refused before anything is written, naming the name
 * the space has here and what to do.
 */
test('a join under --as of a space held here under another name is refused, naming that name', async t => {
  const dirs = [0, 1].map(() => fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-join-as-')))
  const [owner, joiner] = dirs.map(dir => Node.open({ dir })) as [Node, Node]
  t.after(async () => {
    await Promise.all([owner.stop(), joiner.stop()])
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true })
  })
  owner.createSpace('team')
  const { token } = owner.invite('team', 'writer', 2, 3_600_000)
  // Not connected: the join stays presented, unanswered; the space is held here as "work".
  await assert.rejects(joiner.join(token, 0, 'work'), (err: NodeError) => err.code === 'INVITER_UNREACHABLE')
  assert.deepEqual(joiner.spaces().map(s => s.name), ['work'])

  await assert.rejects(joiner.join(token, 0, 'other'), (err: NodeError) =>
    err.code === 'BAD_INPUT' && err.message.includes('"work"') && err.message.includes('--as'))
  assert.deepEqual(joiner.spaces().map(s => s.name), ['work'])
  // The same name, or none, is no conflict: the join is presented again and waits as before.
  await assert.rejects(joiner.join(token, 0, 'work'), (err: NodeError) => err.code === 'INVITER_UNREACHABLE')
  await assert.rejects(joiner.join(token, 0), (err: NodeError) => err.code === 'INVITER_UNREACHABLE')
})
