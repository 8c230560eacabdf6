import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { generateKeyPair, peerIdOf } from '../../src/identity/index.ts'
import { Node } from '../../src/node/index.ts'

/**
 * Review (node/leave.ts lastManagerRefusal, "nothing is lost"): the LAST_ADMIN
 * rule counts the admins of this node's own ACL view, grants made here a
 * moment ago included, and the leave then deletes every row of the space,
 * this node's own feeds with them. A grant that no other node holds yet is
 * deleted with them: the owner grants admin to a member that is offline,
 * leaves without --force (allowed: "another member is admin"), and nobody can
 * ever invite or grant in the space again; whatever else it wrote that no peer
 * pulled yet is gone too, without a word. A leave is now refused while the
 * node's own entries have reached no connected member (UNSENT_WRITES).
 */
test('the owner may not leave without --force on the strength of an admin grant that no other node holds',
  async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-review-'))
  const node = Node.open({ dir })
  t.after(async () => {
    await node.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  node.createSpace('team')
  const admin = peerIdOf(generateKeyPair().publicKey) // a member that is offline: it never received the grant
  node.grant('team', admin, 'admin')
  await assert.rejects(node.leave('team'), { code: 'UNSENT_WRITES', message: /this node wrote in space team/ },
    'left, and the only copy of the grant that was to keep the space manageable went with it')
})
