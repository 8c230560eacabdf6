import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Node } from '../../src/node/index.ts'

/**
 * The README's restore (stop, store.db from `samepage backup`, start) with a shared folder. A file edited after the
 * backup, while its only other member was away, is on disk, and its record is lost with the newer store. The folder's
 * state (D/folders/) still named that lost version with the file's stat, so the pass took the file as unchanged since
 * its sync, found the restored store's older record current, and wrote it over the file: the edit was gone on every
 * node (a review's probe). A version the store lacks is now no proof the file is unchanged: the file is recorded as
 * this node's change, and the older version is kept as a conflict copy. Real nodes over loopback TCP; the waits are
 * for states, each pass run by hand.
 */
const ROOT = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-restore-folder-'))
after(() => { fs.rmSync(ROOT, { recursive: true, force: true }) })
const dir = (n: string): string => path.join(ROOT, n)
const read = (p: string): string | null => { try { return fs.readFileSync(p, 'utf8') } catch { return null } }
const V1 = 'version 1\n'
const V2 = 'version 2, written after the backup\n'

async function until (what: string, ok: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1_000; i++) {
    if (await ok()) return
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  throw new Error(`not reached: ${what}`)
}

test('a store restored from a backup never writes its older version over a file edited after the backup', { timeout: 240_000 }, async () => {
  const fa = dir('folder-a')
  const fb = dir('folder-b')
  fs.mkdirSync(fa)
  fs.mkdirSync(fb)
  const open = (n: string): Node => Node.open({ dir: dir(n), listen: ['/ip4/127.0.0.1/tcp/0'] })
  let a = open('a')
  let b = open('b')
  try {
    await a.start()
    await b.start()
    const space = a.createSpace('docs').id
    await b.join(a.invite(space, 'writer', 1, 3_600_000).token)
    await a.folderAdd(space, fa)
    await b.folderAdd(space, fb)
    fs.writeFileSync(path.join(fa, 'notes.txt'), V1)
    await until('B holds version 1', async () => { await a.folderSync(space); return read(path.join(fb, 'notes.txt')) === V1 })
    await a.backup(dir('backup.db'))
    await b.stop()
    fs.writeFileSync(path.join(fa, 'notes.txt'), V2)
    await a.folderSync(space)
    await a.stop()
    for (const f of ['store.db', 'store.db-wal', 'store.db-shm']) fs.rmSync(path.join(dir('a'), f), { force: true })
    fs.copyFileSync(dir('backup.db'), path.join(dir('a'), 'store.db'))

    b = open('b')
    await b.start()
    a = open('a')
    await a.start()
    await a.dial(b.id().addrs[0] as string)
    const copyOfV1 = (folder: string): boolean =>
      fs.readdirSync(folder).some(f => f.startsWith('notes.sync-conflict-') && read(path.join(folder, f)) === V1)
    await until('B holds version 2 and a conflict copy of version 1', async () => {
      await a.folderSync(space)
      await b.folderSync(space)
      assert.equal(read(path.join(fa, 'notes.txt')), V2, 'A\'s edit stays')
      return read(path.join(fb, 'notes.txt')) === V2 && copyOfV1(fb)
    })
    assert.ok(copyOfV1(fa), 'version 1 kept on A too')
  } finally {
    await a.stop().catch(() => {})
    await b.stop().catch(() => {})
  }
})
