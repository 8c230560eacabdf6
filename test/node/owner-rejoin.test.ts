import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Node } from '../../src/node/index.ts'

/**
 * Review (member-commands.ts join after a leave): the owner that left its space
 * (--force) and joins it again with one of its old invites is told NO_CHANGE
 * ("already owner; nothing to join"), yet adopt() already holds the space
 * again (its genesis makes the owner's role): the command says nothing changed
 * while it did. It now answers as a join that took effect.
 */
test('an owner that left and joins again is either told it joined, or holds nothing', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-review-'))
  const node = Node.open({ dir })
  t.after(async () => {
    await node.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  const team = node.createSpace('team')
  const { token } = node.invite('team', 'writer', 1, 3_600_000)
  await node.leave('team', true)
  const answer = await node.join(token, 0).then(() => 'joined', (err: { code?: string }) => err.code)
  const held = node.spaces().some(s => s.id === team.id)
  assert.ok(answer === 'joined' ? held : !held, `answered ${answer}, and the space is ${held ? '' : 'not '}held`)
})
