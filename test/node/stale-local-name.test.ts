import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Node } from '../../src/node/index.ts'

/**
 * Review (space join --as, D/space-names.json): a leave removes the store's
 * rows first and the local name after (leave.ts); a crash between the two
 * leaves the name of a space no longer held in space-names.json. Nothing
 * drops it at start, and a later join of that space without --as (adopt with
 * no local name) leaves it in place: the space comes back under the old local
 * name, which another space may hold by then (NAME_TAKEN was checked against
 * the space's own name), so both answer to it (AMBIGUOUS_SPACE).
 */
test('a space joined again without --as is known by its own name, not by a local name a cut-short leave left behind', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-review-'))
  let node = Node.open({ dir })
  t.after(async () => {
    await node.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  const team = node.createSpace('team')
  const { token } = node.invite('team', 'writer', 1, 3_600_000)
  await node.leave('team', true)
  await node.stop()
  // The state a SIGKILL between the store's removal and the name's leaves (it had been joined --as work).
  fs.writeFileSync(path.join(dir, 'space-names.json'), JSON.stringify({ names: { [team.id]: 'work' } }))

  node = Node.open({ dir })
  node.createSpace('work') // free: no space held here is named work
  // The owner's old invite: it holds the space again (it is its owner, so the answer is NO_CHANGE).
  await node.join(token, 0).catch(() => {})
  assert.deepEqual(node.spaces().map(s => s.name).sort(), ['team', 'work'])
})
