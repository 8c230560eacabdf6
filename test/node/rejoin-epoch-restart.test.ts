import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { EPOCH_SALT_RANGE } from '../../src/space/index.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import { Node } from '../../src/node/index.ts'

/**
 * Review (commit 4e73763, D/left-epochs.json): a join of a space left before
 * opens its epochs above every epoch this node had opened there. The floor is
 * applied only by SpaceSet.adopt() to a space not held; a rejoin that has not
 * taken effect yet (its inviter away) leaves the space held (its genesis, no
 * feed of ours: the join waits in memory), so after a restart the replica is
 * opened from the store without the floor, and the next join of it (adopt of
 * a held space: no floor either) opens where the new process's wall time and
 * salt put it: with a salt smaller than the old one, below the epochs of the
 * role this node still holds, and every write of it is NOT_ALLOWED.
 */
test('a writer that left, tried to rejoin while the inviter was away and restarted opens its next epoch above the old ones', async t => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-review-'))
  const nodes = new Set<Node>()
  const open = (name: string): Node => { const n = Node.open({ dir: path.join(root, name) }); nodes.add(n); return n }
  const stop = async (n: Node): Promise<void> => { nodes.delete(n); await n.stop() }
  t.after(async () => {
    for (const n of nodes) await n.stop()
    fs.rmSync(root, { recursive: true, force: true })
  })
  const a = open('a')
  await a.start()
  let b = open('b')
  await b.start()
  const team = a.createSpace('team')
  const first = a.invite('team', 'writer', 1, 3_600_000).token
  const second = a.invite('team', 'writer', 1, 3_600_000).token
  await b.join(first, 30_000)
  await b.kvPutGrouped('team', 'k', 'v')
  const me = authorKeyOf(b.keyPair.publicKey)
  await b.leave('team', true) // forced: its write may not have reached a yet (UNSENT_WRITES), which is not the point here
  const left = (JSON.parse(fs.readFileSync(path.join(root, 'b', 'left-epochs.json'), 'utf8')) as
    { epochs: Record<string, number> }).epochs[team.id] as number
  assert.ok(Number.isSafeInteger(left) && left > 0, 'the leave recorded its highest epoch')

  await stop(a) // the inviter is away: the rejoin waits, and the space stays held with no feed of b's
  await assert.rejects(b.join(second, 500), { code: 'INVITER_UNREACHABLE' })
  assert.ok(b.space(team.id).openEpoch(me, left - EPOCH_SALT_RANGE) > left, 'in the same process the floor holds')
  await stop(b)

  b = open('b')
  // Whatever wall time and salt the new process has; here those of a restart where the old salt was the larger.
  const next = b.space(team.id).openEpoch(me, left - EPOCH_SALT_RANGE)
  assert.ok(next > left, `after the restart the next epoch (${next}) is below ${left}, opened before the leave`)
})
