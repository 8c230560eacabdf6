import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Node } from '../../src/node/index.ts'

/**
 * A saved folder whose directory is missing when the daemon starts (a disk not mounted yet) used to be left unstarted
 * until the next restart, its status saying nothing. Now its status says why and that it is tried again; it starts
 * once the directory is back (here at `folder status --sync`, which tries at once; a timer tries every 30 s).
 */
const ROOT = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-folder-retry-'))
after(() => { fs.rmSync(ROOT, { recursive: true, force: true }) })

test('a saved folder missing at start says why, and starts once its directory is back', { timeout: 120_000 }, async () => {
  const folder = path.join(ROOT, 'folder')
  const away = path.join(ROOT, 'unmounted')
  fs.mkdirSync(folder)
  const open = (): Node => Node.open({ dir: path.join(ROOT, 'node'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  let a = open()
  try {
    await a.start()
    const space = a.createSpace('docs').id
    await a.folderAdd(space, folder)
    fs.writeFileSync(path.join(folder, 'one.txt'), 'one')
    await a.folderSync(space)
    assert.equal(a.folderStatus(space).status.localFiles, 1)
    await a.stop()
    fs.renameSync(folder, away)

    a = open()
    await a.start()
    const missing = a.folderStatus(space).status
    assert.equal(missing.state, 'stopped')
    assert.match(missing.errors[0]?.error ?? '', /^not synced: .*folder does not exist.*\(tried again every 30 s\)$/)
    fs.renameSync(away, folder)
    fs.writeFileSync(path.join(folder, 'two.txt'), 'two')
    const back = (await a.folderSync(space)).status
    assert.notEqual(back.state, 'stopped')
    assert.deepEqual(back.errors, [])
    assert.equal(back.localFiles, 2, 'the file written while it was away is synced')
  } finally {
    await a.stop().catch(() => {})
  }
})
