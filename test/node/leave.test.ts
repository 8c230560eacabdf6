import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { EPOCH_SALT_RANGE, LEAVE_NOTICE, signStatus, SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore, SqliteStore } from '../../src/store/index.ts'
import type { Store } from '../../src/store/index.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import { Node } from '../../src/node/index.ts'
import { KnownPeers } from '../../src/node/known-peers.ts'
import { lastManagerRefusal } from '../../src/node/leave.ts'
import { LeftEpochs } from '../../src/node/left-epochs.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'

/**
 * `space leave` below the network (node/leave.ts, issue 16): who may leave
 * without --force, the store's removal of a space's rows (the other spaces
 * untouched, a later adopt from nothing), and a node that left a space and
 * restarts without it.
 */
const [O, A, W] = [seededKey('leave-unit', 'owner'), seededKey('leave-unit', 'admin'), seededKey('leave-unit', 'writer')]
const grant = (r: SpaceReplica, member: typeof O, role: 'admin' | 'writer', at: number): void => {
  r.append(O, { t: 'acl.grant', member: member.publicKey, role, from: { epoch: 0, seq: 0 } }, at)
}

test('the last member who can invite or grant may not leave unless forced; anyone else may', () => {
  const r = SpaceReplica.create(new MemoryStore(), O, 'team', T0)
  assert.match(lastManagerRefusal(r, authorKeyOf(O.publicKey), 'team') ?? '', /only member of space team: leaving deletes/)
  grant(r, W, 'writer', T0 + 1)
  assert.match(lastManagerRefusal(r, authorKeyOf(O.publicKey), 'team') ?? '', /owner of space team and no other member is admin/)
  assert.equal(lastManagerRefusal(r, authorKeyOf(W.publicKey), 'team'), undefined, 'a writer leaves freely')
  grant(r, A, 'admin', T0 + 2)
  assert.equal(lastManagerRefusal(r, authorKeyOf(O.publicKey), 'team'), undefined, 'an admin stays to invite and grant')
  assert.equal(lastManagerRefusal(r, authorKeyOf(A.publicKey), 'team'), undefined, 'the owner stays')
})

test('a manager that said it left (its leave notice) counts no more, until it writes again', () => {
  const r = SpaceReplica.create(new MemoryStore(), O, 'team', T0)
  grant(r, W, 'writer', T0 + 1)
  grant(r, A, 'admin', T0 + 2)
  const o = authorKeyOf(O.publicKey)
  const a = authorKeyOf(A.publicKey)
  const say = (signer: typeof O, author: typeof O, wallMs: number, body: Record<string, unknown>): unknown => {
    const clock = { wallMs, counter: 0 }
    const { bytes, sig } = signStatus(signer, { space: r.id, author: author.publicKey, clock, body })
    return r.ingestStatus([bytes, sig], wallMs)
  }
  assert.deepEqual(say(W, A, T0 + 10, { ...LEAVE_NOTICE }), {
    reason: 'bad-signature', detail: 'status record not signed by its author'
  })
  assert.equal(r.saidItLeft(a), false, 'nobody says it for someone else')
  assert.equal(say(A, A, T0 + 10, { left: 2 }), 'stored')
  assert.equal(r.saidItLeft(a), false, 'a status record that is no leave notice says nothing')
  assert.equal(say(A, A, T0 + 20, { ...LEAVE_NOTICE }), 'stored')
  assert.equal(r.saidItLeft(a), true)
  assert.match(lastManagerRefusal(r, o, 'team') ?? '', /no other member is admin \(the other admin said it left\)/)
  r.append(A, { t: 'kv.put', key: 'k', value: 'back' }, T0 + 30) // came back: a write of a later clock
  assert.equal(r.saidItLeft(a), false)
  assert.equal(lastManagerRefusal(r, o, 'team'), undefined, 'the admin manages the space again')
  say(W, W, T0 + 40, { ...LEAVE_NOTICE })
  say(A, A, T0 + 40, { ...LEAVE_NOTICE })
  assert.match(lastManagerRefusal(r, o, 'team') ?? '', /only member of space team \(2 other members said they left\)/)
})

test('after a leave, peers.json forgets the peers that are members of no space held here any more', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-leave-'))
  try {
    const file = path.join(dir, 'peers.json')
    const members = new Set(['in-both', 'only-in-left'])
    const peers = new KnownPeers(file, id => members.has(id), { everyMs: 0 }) // each change written at once
    for (const id of members) peers.remember(id, [`/ip4/127.0.0.1/tcp/1/p2p/${id}`])
    members.delete('only-in-left') // the space it shared with us is gone
    peers.prune()
    assert.deepEqual([peers.has('in-both'), peers.has('only-in-left')], [true, false])
    assert.deepEqual(Object.keys(JSON.parse(fs.readFileSync(file, 'utf8')) as object), ['in-both'])
    assert.deepEqual(new KnownPeers(file).addrs(), ['/ip4/127.0.0.1/tcp/1/p2p/in-both'], 'also after a restart')
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

function storeContract (name: string, open: () => { store: Store, reopen: () => Store, done: () => void }): void {
  test(`${name}: removeSpace takes every row of one space, the others stay, and an adopt starts from nothing`, () => {
    const { store, reopen, done } = open()
    try {
      const gone = SpaceReplica.create(store, O, 'gone', T0)
      const kept = SpaceReplica.create(store, O, 'kept', T0)
      for (const r of [gone, kept]) {
        grant(r, W, 'writer', T0 + 1)
        for (let i = 0; i < 20; i++) r.append(O, { t: 'kv.put', key: `k${i}`, value: i }, T0 + 2 + i)
      }
      store.removeSpace(gone.key)
      store.removeSpace(gone.key) // twice: nothing left to remove
      const after = reopen()
      assert.deepEqual(after.spaces(), [kept.key])
      assert.equal(after.genesis(gone.key), undefined)
      assert.deepEqual(after.feeds(gone.key), [])
      assert.deepEqual([...after.entries(gone.key)], [])
      assert.deepEqual([...after.viewRows(gone.key, 'kv')], [])
      assert.equal(SpaceReplica.open(after, kept.key).kvList().length, 20)
      const again = SpaceReplica.adopt(after, [gone.genesis.bytes, gone.genesis.sig])
      assert.ok(again instanceof SpaceReplica)
      assert.deepEqual([again.kvList().length, again.vector().length], [0, 0], 'from nothing')
      assert.deepEqual(after.spaces().sort(), [gone.key, kept.key].sort())
    } finally {
      done()
    }
  })
}

storeContract('MemoryStore', () => {
  const store = new MemoryStore()
  return { store, reopen: () => store, done: () => {} }
})

storeContract('SqliteStore', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-leave-'))
  const file = path.join(dir, 'store.db')
  let last = SqliteStore.open(file)
  return {
    store: last,
    reopen: () => { last.close(); return (last = SqliteStore.open(file)) },
    done: () => {
      const db = new DatabaseSync(file, { readOnly: true })
      assert.deepEqual(db.prepare('PRAGMA integrity_check').all().map(r => r['integrity_check']), ['ok'])
      db.close()
      last.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
})

test('a node that left a space opens without it, and its name is free again', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-leave-'))
  t.after(() => { fs.rmSync(dir, { recursive: true, force: true }) })
  let node = Node.open({ dir })
  const team = node.createSpace('team')
  node.createSpace('other')
  node.kvPut('team', 'k', 'v')
  await assert.rejects(node.leave('team'), { code: 'LAST_ADMIN' })
  assert.deepEqual(await node.leave('team', true), { id: team.id, name: 'team', folder: null, unansweredInvites: 0, toldMembers: 0 })
  await assert.rejects(node.leave('team', true), { code: 'UNKNOWN_SPACE' })
  assert.throws(() => node.kvGet(team.id, 'k'), { code: 'UNKNOWN_SPACE' })
  await node.stop()
  node = Node.open({ dir })
  try {
    assert.deepEqual(node.spaces().map(s => s.name), ['other'])
    assert.throws(() => node.space(team.id), { code: 'UNKNOWN_SPACE' })
    assert.equal(node.createSpace('team').name, 'team', 'the name is free again')
  } finally {
    await node.stop()
  }
})

test('a space left and joined again opens its epochs above the ones it had, whatever the new process\'s salt', () => {
  // Before the leave: a process with the largest salt opened an epoch minutes above its wall time.
  const before = SpaceReplica.create(new MemoryStore(), O, 'team', T0, { epochSalt: EPOCH_SALT_RANGE - 1 })
  before.append(O, { t: 'kv.put', key: 'k', value: 'v' }, T0 + 1)
  const owner = authorKeyOf(O.publicKey)
  const highest = before.highestOwnEpoch(owner)
  assert.ok(highest >= T0 + EPOCH_SALT_RANGE - 1, `the epoch opened: ${highest}`)
  const genesis = [before.genesis.bytes, before.genesis.sig] as const
  // After it, a restart (salt 0) and a join from an empty store, seconds later.
  const forgetful = SpaceReplica.adopt(new MemoryStore(), genesis, undefined, { epochSalt: 0 }) as SpaceReplica
  assert.ok(forgetful.openEpoch(owner, T0 + 5_000) < highest, 'without the floor: below the old epoch (the defect)')
  const rejoined = SpaceReplica.adopt(new MemoryStore(), genesis, undefined, { epochSalt: 0 }) as SpaceReplica
  rejoined.openAbove(highest)
  assert.ok(rejoined.openEpoch(owner, T0 + 5_000) > highest, 'with it: above every epoch opened before the leave')

  // The floor outlives a restart: D/left-epochs.json, the highest of what was recorded; a broken file is named.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-left-epochs-'))
  try {
    const file = path.join(dir, 'left-epochs.json')
    new LeftEpochs(file).record(before.key, highest)
    new LeftEpochs(file).record(before.key, highest - 10)
    assert.equal(new LeftEpochs(file).get(before.key), highest)
    fs.writeFileSync(file, '{"epochs": {"x": -1}}')
    assert.throws(() => new LeftEpochs(file), /left-epochs\.json is not \{"epochs"/)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
