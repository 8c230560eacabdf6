import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Node } from '../../src/node/index.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import type { AuthorKey } from '../../src/ids/index.ts'
import { INVITE_KEEP_MAX } from '../../src/codec/index.ts'
import type { RevocableInvite } from '../../src/space/index.ts'
import { InviteSweep } from '../../src/node/invite-sweep.ts'
import type { SpaceSet } from '../../src/node/space-set.ts'
import type { LocalWrites } from '../../src/node/writes.ts'

/**
 * Decision 9 on a real node: once an invite it may revoke has expired, an
 * admin's node revokes it by itself (an invite.revoke entry in its feed,
 * keeping the joins it holds), while invites still valid stay open.
 */
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-sweep-'))
after(() => fs.rmSync(root, { recursive: true, force: true }))

test('an expired invite is revoked by the node that issued it, and only that one', { timeout: 600_000 }, async () => {
  const node = Node.open({ dir: path.join(root, 'owner') })
  await node.start()
  try {
    const { id } = node.createSpace('team')
    const me = authorKeyOf(node.keyPair.publicKey)
    node.invite(id, 'writer', 1, 300)
    node.invite(id, 'reader', 1, 3_600_000)
    assert.equal(node.space(id).acl.openInvites(me).length, 2)
    const deadline = Date.now() + 10_000
    while (node.space(id).acl.openInvites(me).length !== 1 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
    const open = node.space(id).acl.openInvites(me)
    assert.equal(open.length, 1, 'the expired invite is revoked within moments of its expiry')
    assert.ok((open[0]?.expiresMs ?? 0) > Date.now() + 3_000_000, 'the invite that has not expired stays open')
    assert.equal(node.space(id).acl.expiredInvites(me, Date.now()).length, 0)
  } finally {
    await node.stop()
  }
})

test('an invite valid for no time, or past what a clock holds, is refused and names the fix; nothing is written', async () => {
  const node = Node.open({ dir: path.join(root, 'refuser') })
  try {
    const { id } = node.createSpace('team')
    const entries = node.space(id).vector().reduce((n, row) => n + row.count, 0)
    for (const expiresInMs of [0, -60_000, 1.5, 9e15]) {
      assert.throws(() => node.invite(id, 'writer', 1, expiresInMs),
        (err: Error & { code?: string }) => err.code === 'BAD_INPUT' && /--expires as 7d/.test(err.message), String(expiresInMs))
    }
    assert.equal(node.space(id).vector().reduce((n, row) => n + row.count, 0), entries)
  } finally {
    await node.stop()
  }
})

test('an expired invite that admitted more joins than a revoke can keep is left open, not revoked', () => {
  // Revoked, keeping the first INVITE_KEEP_MAX, it would drop the members it admitted after them, everywhere; left
  // open it admits nobody more (only its issuer redeems, never once it expired). One below the bound is revoked.
  const me = 'aa'.repeat(32) as AuthorKey
  const due = (redeemed: number): RevocableInvite =>
    ({ invite: new Uint8Array(32).fill(redeemed % 251), issuer: me, expiresMs: 0, keep: [], redeemed })
  const written: unknown[] = []
  const replica = { acl: { expiredInvites: () => [due(INVITE_KEEP_MAX + 1), due(INVITE_KEEP_MAX)], openInvites: () => [] } }
  const sweep = new InviteSweep({
    spaces: { all: () => [replica] } as unknown as SpaceSet,
    writes: { write: (_r: unknown, body: unknown) => { written.push(body) } } as unknown as LocalWrites,
    me
  })
  sweep.start()
  sweep.stop()
  assert.deepEqual(written, [{ t: 'invite.revoke', invite: due(INVITE_KEEP_MAX).invite, keep: [] }])
})

test('an expired invite left open does not bring the next sweep forward: one sweep, then the next a minute on', async () => {
  // It waited on its expiry, already past: the sweep ran back to back for as long as the daemon ran (review F). The
  // first timer a spinning sweep set would fire before this test's own wait ends, whatever the machine's speed.
  const me = 'aa'.repeat(32) as AuthorKey
  const leftOpen: RevocableInvite =
    { invite: new Uint8Array(32).fill(7), issuer: me, expiresMs: Date.now() - 1_000, keep: [], redeemed: INVITE_KEEP_MAX + 1 }
  let sweeps = 0
  const replica = { acl: { expiredInvites: () => { sweeps++; return [leftOpen] }, openInvites: () => [leftOpen] } }
  const sweep = new InviteSweep({
    spaces: { all: () => [replica] } as unknown as SpaceSet,
    writes: { write: () => { throw new Error('nothing is written') } } as unknown as LocalWrites,
    me
  })
  sweep.start()
  await new Promise(resolve => setTimeout(resolve, 20))
  sweep.stop()
  assert.equal(sweeps, 1)
})
