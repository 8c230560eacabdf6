import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Node } from '../../src/node/index.ts'
import { mountCaseInsensitive } from '../helpers/case-insensitive-mount.ts'
import type { CaseInsensitiveMount } from '../helpers/case-insensitive-mount.ts'

/**
 * Two real nodes over loopback. A's folder is on a case-sensitive disk and holds Report.txt and report.txt (two
 * files, as Linux allows), and Dir/a and dir/b. C's folder is on a file system that ignores case (a FUSE mount of the
 * test's own). C used to write one file over the other, then record a deletion and an edit: A lost report.txt and
 * dir/b (a review's probe). Now C holds what it can, says why not for the rest, and A's files stay as A wrote them.
 * The waits are for states, each pass run by hand.
 */
const ROOT = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-ci-nodes-'))
let m: CaseInsensitiveMount
before(async () => { m = await mountCaseInsensitive() })
after(async () => { await m?.unmount(); fs.rmSync(ROOT, { recursive: true, force: true }) })
const read = (p: string): string | null => { try { return fs.readFileSync(p, 'utf8') } catch { return null } }
const FILES: Array<[string, string]> = [['Report.txt', 'the report, capitalised\n'], ['report.txt', 'another file\n'],
  ['Dir/a', 'a, in Dir\n'], ['dir/b', 'b, in dir\n']]

test('a receiver that ignores case holds what it can, says why not for the rest, and changes nothing of the sender\'s', { timeout: 180_000 }, async () => {
  const fa = path.join(ROOT, 'folder-a')
  const fc = path.join(m.dir, 'folder-c')
  for (const [p, content] of FILES) {
    fs.mkdirSync(path.dirname(path.join(fa, p)), { recursive: true })
    fs.writeFileSync(path.join(fa, p), content)
  }
  fs.mkdirSync(fc)
  const open = (n: string): Node => Node.open({ dir: path.join(ROOT, n), listen: ['/ip4/127.0.0.1/tcp/0'] })
  const a = open('a')
  const c = open('c')
  try {
    await a.start()
    await c.start()
    const space = a.createSpace('docs').id
    await c.join(a.invite(space, 'writer', 1, 3_600_000).token)
    await a.folderAdd(space, fa)
    await c.folderAdd(space, fc)
    const conflicts = (): string[] => c.folderStatus(space).status.errors
      .filter(e => /case conflict/.test(e.error)).map(e => e.path).sort()
    // Both states are waited for: the conflicts are said at planning, before C's fetch of Dir/a may have ended.
    const settled = (): boolean => conflicts().length >= 2 && read(path.join(fc, 'Dir', 'a')) !== null
    for (let i = 0; i < 600 && !settled(); i++) {
      await a.folderSync(space)
      await c.folderSync(space)
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    assert.equal(conflicts().length, 2, JSON.stringify(c.folderStatus(space).status.errors))
    // A few more rounds both ways: nothing C did reaches A.
    for (let i = 0; i < 3; i++) { await c.folderSync(space); await a.folderSync(space) }
    for (const [p, content] of FILES) assert.equal(read(path.join(fa, p)), content, `A's ${p}`)
    assert.equal(read(path.join(fc, 'Dir', 'a')), 'a, in Dir\n')
  } finally {
    await a.stop().catch(() => {})
    await c.stop().catch(() => {})
  }
})
