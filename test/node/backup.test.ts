import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { SpaceReplica } from '../../src/space/index.ts'
import { SqliteStore } from '../../src/store/index.ts'
import { backupStore } from '../../src/node/backup.ts'
import { recomputedViewHash } from '../space/view-rebuild.ts'

import { seededKey, T0 } from '../helpers/fixtures.ts'

/**
 * `samepage backup` on a real store (node/backup.ts over SQLite's online
 * backup): the copy is a whole, consistent database, taken beside live
 * commits, and every refused target leaves the disk as it was.
 */
const W = seededKey('backup', 'writer')

function setup (t: { after: (fn: () => void) => void }): { root: string, data: string, store: SqliteStore, replica: SpaceReplica } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-backup-'))
  const data = path.join(root, 'data')
  fs.mkdirSync(data)
  const store = SqliteStore.open(path.join(data, 'store.db'))
  t.after(() => { store.close(); fs.rmSync(root, { recursive: true, force: true }) })
  const replica = SpaceReplica.create(store, W, 'backup', T0)
  return { root, data, store, replica }
}

test('a backup taken beside live commits is a whole database whose views equal a rebuild of its entries', { timeout: 120_000 }, async t => {
  const { root, data, store, replica } = setup(t)
  for (let i = 0; i < 10_000; i += 1000) {
    replica.appendBodies(W, Array.from({ length: 1000 }, (_, j) => ({ t: 'kv.put' as const, key: `k${(i + j) % 3000}`, value: { n: i + j, pad: 'x'.repeat(200) } })), T0 + 1 + i / 1000)
  }
  let live = 0
  const writer = setInterval(() => { replica.append(W, { t: 'ledger.append', tx: { live: live++ } }, T0 + 100 + live) }, 1)
  let result
  try {
    result = await backupStore(store, data, [], path.join(root, 'copy.db'))
  } finally {
    clearInterval(writer)
  }
  assert.equal(result.path, path.join(fs.realpathSync(root), 'copy.db'))
  assert.equal(fs.statSync(result.path).mode & 0o777, 0o600, 'the backup holds every space: private')
  assert.deepEqual(fs.readdirSync(root).sort(), ['copy.db', 'data'], 'no temporary or WAL file left beside it')
  const db = new DatabaseSync(result.path, { readOnly: true })
  assert.deepEqual(db.prepare('PRAGMA integrity_check').all().map(r => r['integrity_check']), ['ok'])
  db.close()
  const copy = SqliteStore.open(result.path)
  try {
    const r = SpaceReplica.open(copy, replica.key)
    const feeds = copy.feeds(replica.key)
    assert.equal(feeds.length, 1)
    const count = feeds[0]?.count ?? 0
    assert.ok(count >= 10_000 && count <= 10_000 + live, `${count} entries: the ones committed before the backup, and some of the live ones at most`)
    assert.equal(r.viewHash(), recomputedViewHash(copy, replica.key))
    assert.equal(r.kvList().length, 3000)
  } finally {
    copy.close()
  }
})

test('refused targets (not absolute, no such directory, existing, inside the data directory or a shared folder) write nothing', async t => {
  const { root, data, store } = setup(t)
  const shared = path.join(root, 'shared')
  fs.mkdirSync(shared)
  fs.writeFileSync(path.join(root, 'existing.db'), 'precious')
  fs.symlinkSync(data, path.join(root, 'to-data'))
  const cases: [string, string][] = [
    ['relative.db', 'BAD_INPUT'],
    [path.join(root, 'missing', 'x.db'), 'BAD_INPUT'],
    [path.join(root, 'existing.db'), 'BACKUP_EXISTS'],
    [path.join(data, 'store.db'), 'BACKUP_REFUSED'],
    [path.join(data, 'new.db'), 'BACKUP_REFUSED'],
    [path.join(data, 'missing', 'x.db'), 'BACKUP_REFUSED'],
    [path.join(root, 'to-data', 'x.db'), 'BACKUP_REFUSED'],
    [data, 'BACKUP_REFUSED'],
    [path.join(shared, 'x.db'), 'BACKUP_REFUSED']
  ]
  const before = (): string => JSON.stringify([fs.readdirSync(root).sort(), fs.readdirSync(data).sort(), fs.readdirSync(shared)])
  const listed = before()
  for (const [target, code] of cases) {
    await assert.rejects(backupStore(store, data, [shared], target), (err: { code?: string }) => err.code === code, `${target} should be refused with ${code}`)
  }
  assert.equal(before(), listed, 'nothing was written anywhere')
  assert.equal(fs.readFileSync(path.join(root, 'existing.db'), 'utf8'), 'precious')
})
