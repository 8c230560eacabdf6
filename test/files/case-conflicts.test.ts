import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { mountCaseInsensitive } from '../helpers/case-insensitive-mount.ts'
import type { CaseInsensitiveMount } from '../helpers/case-insensitive-mount.ts'
import { realFolder } from './real-folder.ts'

/**
 * Records whose paths differ only in case, written into a folder on a file system that ignores case (a FUSE mount of
 * the test's own: ../helpers/case-insensitive-mount.ts). Two honest members each recorded one file. Before, they
 * overwrote each other there, and the receiver recorded a deletion and an edit (or moved `dir/b` into `Dir/`) that
 * every node applied (a review's probes). Now what the folder cannot hold beside what it holds is refused as a case
 * conflict, said on its path, and nothing is recorded; as Syncthing's CaseConflictError.
 */
const A = 'a'.repeat(64)
const B = 'b'.repeat(64)
let m: CaseInsensitiveMount
before(async () => { m = await mountCaseInsensitive() })
after(async () => { await m?.unmount() })

const read = (p: string): string | null => { try { return fs.readFileSync(p, 'utf8') } catch { return null } }

describe('a folder on a file system that ignores case', () => {
  test('Report.txt (A) and report.txt (B) in one pass: one is written, the other refused as a case conflict', async () => {
    const root = path.join(m.dir, 'together', 'f')
    const f = await realFolder(root)
    await f.theirs(A, 'Report.txt', 'A wrote Report.txt\n')
    await f.theirs(B, 'report.txt', 'B wrote report.txt, another file\n', Date.UTC(2026, 0, 2))
    for (let i = 0; i < 3; i++) await f.sync.sync()
    assert.deepEqual(f.mine(), [], 'the receiver recorded nothing')
    const names = fs.readdirSync(root).filter(n => n !== '.samepage')
    assert.equal(names.length, 1, names.join(', '))
    const written = names[0] as string
    const other = written === 'Report.txt' ? 'report.txt' : 'Report.txt'
    assert.equal(read(path.join(root, written)), written === 'Report.txt' ? 'A wrote Report.txt\n' : 'B wrote report.txt, another file\n')
    assert.match(f.errors()[other] ?? '', new RegExp(`^not written: case conflict with ${written}: this folder's file system ignores case`))
    await f.sync.stop()
  })

  test('report.txt (B) after Report.txt (A): refused before any fetch; nothing recorded', async () => {
    const root = path.join(m.dir, 'after', 'f')
    const f = await realFolder(root)
    await f.theirs(A, 'Report.txt', 'A wrote Report.txt\n')
    await f.sync.sync()
    await f.theirs(B, 'report.txt', 'B wrote report.txt\n', Date.UTC(2026, 0, 2))
    await f.sync.sync()
    await f.sync.sync()
    assert.deepEqual(f.mine(), [])
    assert.equal(read(path.join(root, 'Report.txt')), 'A wrote Report.txt\n')
    assert.match(f.errors()['report.txt'] ?? '', /^not written: case conflict with Report\.txt/)
    assert.deepEqual(fs.readdirSync(path.join(root, '.samepage', 'tmp')), [], 'no part file fetched for it')
    await f.sync.stop()
  })

  test('a file x (A), then X/y (B): a case conflict, said before any fetch and not tried every 5 s', async () => {
    const root = path.join(m.dir, 'shapes', 'f')
    const f = await realFolder(root)
    await f.theirs(A, 'x', 'a file named x\n')
    await f.sync.sync()
    await f.theirs(B, 'X/y', 'y, in a directory X\n')
    const delays: number[] = []
    const schedule = f.sync.schedule.bind(f.sync)
    f.sync.schedule = (delayMs?: number) => { delays.push(delayMs ?? -1); schedule(delayMs) }
    await f.sync.sync()
    assert.deepEqual(f.mine(), [])
    assert.match(f.errors()['X/y'] ?? '', /^not written: case conflict with x: /)
    assert.deepEqual(delays, [], 'a lasting error: no pass every 5 s')
    await f.sync.stop()
  })

  test('Dir/a (A), then dir/b (B): b is not written into Dir/, and nothing is recorded', async () => {
    const root = path.join(m.dir, 'dirs', 'f')
    const f = await realFolder(root)
    await f.theirs(A, 'Dir/a', 'a, in Dir\n')
    await f.sync.sync()
    await f.theirs(B, 'dir/b', 'b, in dir\n')
    for (let i = 0; i < 3; i++) await f.sync.sync()
    assert.deepEqual(f.mine(), [])
    assert.deepEqual(fs.readdirSync(path.join(root, 'Dir')), ['a'])
    assert.match(f.errors()['dir/b'] ?? '', /^not written: case conflict with Dir: /)
    await f.sync.stop()
  })
})

describe('a folder with one directory that ignores case (ext4 casefold: chattr +F)', () => {
  let sub: CaseInsensitiveMount
  before(async () => { sub = await mountCaseInsensitive('games') })
  after(async () => { await sub?.unmount() })

  test('games/Report.txt and games/report.txt in one pass: nothing overwritten, nothing recorded', async () => {
    // The folder's root does not ignore case, so its first pass finds no such file system: the write itself finds out.
    const root = path.join(sub.dir, 'f')
    fs.mkdirSync(path.join(root, 'games'), { recursive: true })
    const f = await realFolder(root)
    await f.theirs(A, 'games/Report.txt', 'A wrote Report.txt\n')
    await f.theirs(B, 'games/report.txt', 'B wrote report.txt, another file\n', Date.UTC(2026, 0, 2))
    for (let i = 0; i < 3; i++) await f.sync.sync()
    assert.deepEqual(f.mine(), [], 'the receiver recorded nothing')
    const names = fs.readdirSync(path.join(root, 'games'))
    assert.equal(names.length, 1, names.join(', '))
    const other = names[0] === 'Report.txt' ? 'games/report.txt' : 'games/Report.txt'
    assert.match(f.errors()[other] ?? '', /^not written: case conflict with games\//)
    await f.sync.stop()
  })

  test('games/Dir/a, then games/dir/b: b is not written into Dir/, and nothing is recorded', async () => {
    const root = path.join(sub.dir, 'g')
    fs.mkdirSync(path.join(root, 'games'), { recursive: true })
    const f = await realFolder(root)
    await f.theirs(A, 'games/Dir/a', 'a, in Dir\n')
    await f.sync.sync()
    await f.theirs(B, 'games/dir/b', 'b, in dir\n')
    for (let i = 0; i < 3; i++) await f.sync.sync()
    assert.deepEqual(f.mine(), [])
    assert.deepEqual(fs.readdirSync(path.join(root, 'games', 'Dir')), ['a'])
    assert.match(f.errors()['games/dir/b'] ?? '', /^not written: case conflict with games\/Dir: /)
    await f.sync.stop()
  })
})
