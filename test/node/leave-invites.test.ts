import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Node } from '../../src/node/index.ts'

/**
 * A leave says how many of this node's invites it leaves unanswered: only an invite's issuer admits its joiners
 * (decision 18), so after the leave they would wait for an answer that never comes, with nothing said.
 */
test('space leave counts the invites of this node that could still admit someone', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-leave-invites-'))
  const node = Node.open({ dir })
  t.after(async () => {
    await node.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  node.createSpace('team')
  node.invite('team', 'writer', 1, 3_600_000)
  node.invite('team', 'reader', 5, 3_600_000)
  node.invite('team', 'reader', 1, 1) // expires 1 ms after it is made
  node.createSpace('quiet')
  await sleep(5)
  const left = await node.leave('team', true)
  assert.equal(left.unansweredInvites, 2)
  assert.equal((await node.leave('quiet', true)).unansweredInvites, 0)
})
