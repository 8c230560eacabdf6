import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { realFolder } from './real-folder.ts'

/**
 * A file saved again under the NFD spelling of its recorded (NFC) name, as a Mac's tools and rsync from a Mac write
 * names. The scan skips the NFD name (not in Unicode NFC), and the known NFC file looked deleted: the node recorded a
 * deletion and every member deleted the file (a review's probe). It is now "no longer shared from here", as any
 * file the scan skips, and deleted nowhere.
 */
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-nfd-'))
after(() => { fs.rmSync(root, { recursive: true, force: true }) })

test('a file saved again under the NFD spelling of its name is not recorded as deleted', async () => {
  const folder = path.join(root, 'f')
  const f = await realFolder(folder)
  const nfc = 'caf\u00e9.txt'
  await f.theirs('a'.repeat(64), nfc, 'first version\n')
  await f.sync.sync()
  assert.equal(fs.readFileSync(path.join(folder, nfc), 'utf8'), 'first version\n')
  fs.writeFileSync(path.join(folder, nfc.normalize('NFD')), 'edited here, saved by a tool that spells names in NFD\n')
  fs.unlinkSync(path.join(folder, nfc))
  await f.sync.sync()
  assert.deepEqual(f.mine().filter(v => v.deleted), [])
  assert.match(f.sync.status().skipped.map(s => s.problem).join('; '), /NFC/)
  await f.sync.stop()
})
