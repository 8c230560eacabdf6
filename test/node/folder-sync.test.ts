import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Node } from '../../src/node/index.ts'
import { treeHashes, treeKey, waitFor } from '../files/tree.ts'
import type { FileVersion } from '../../src/space/index.ts'

/**
 * Folder sync between two real nodes in one process (real libp2p over TCP on
 * 127.0.0.1, real folders): the quick loop for the folder logic. The same
 * cases across real processes and the CLI are in test/e2e/folders.test.ts.
 */
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-folder-'))
let a: Node
let b: Node
let space: string
const fa = path.join(root, 'fa')
const fb = path.join(root, 'fb')

before(async () => {
  a = Node.open({ dir: path.join(root, 'a') })
  b = Node.open({ dir: path.join(root, 'b') })
  await a.start()
  await b.start()
  space = a.createSpace('docs').id
  const { token } = a.invite(space, 'writer', 1, 3_600_000)
  await b.join(token)
  fs.mkdirSync(fa)
  fs.mkdirSync(fb)
  await a.folderAdd(space, fa)
  await b.folderAdd(space, fb)
})

after(async () => {
  await a?.stop()
  await b?.stop()
  fs.rmSync(root, { recursive: true, force: true })
})

/** The same pseudo-random bytes on every run (AES-256-CTR of zeros under a key from `seed`). */
function seededBytes (bytes: number, seed: string): Buffer {
  const cipher = crypto.createCipheriv('aes-256-ctr', crypto.createHash('sha256').update(seed).digest(), Buffer.alloc(16))
  return Buffer.concat([cipher.update(Buffer.alloc(bytes)), cipher.final()])
}

const tree = treeKey

const same = async (what: string, timeoutMs = 20_000): Promise<void> => {
  await waitFor(() => tree(fa) === tree(fb), timeoutMs, () => `${what}: ${tree(fa)} vs ${tree(fb)}\n${JSON.stringify(b.folderStatus(space).status)}`)
}

// A suite's timeout bounds all its tests together: this one is the sum of theirs (each has its own).
describe('folder sync, two nodes in one process', { timeout: 2_400_000 }, () => {
  test('create, nested, empty, big, modify, append, truncate, chmod, rename, delete', { timeout: 600_000 }, async () => {
    const progress: unknown[] = []
    b.on('folder', ev => progress.push(ev))
    fs.mkdirSync(path.join(fa, 'x/y/z'), { recursive: true })
    fs.writeFileSync(path.join(fa, 'hello.txt'), 'hello\n')
    fs.writeFileSync(path.join(fa, 'x/y/z/deep.txt'), 'deep')
    fs.writeFileSync(path.join(fa, 'empty'), '')
    fs.writeFileSync(path.join(fa, 'big.bin'), crypto.randomBytes(5 * 1024 * 1024))
    await same('created')
    fs.appendFileSync(path.join(fa, 'hello.txt'), 'more\n')
    fs.truncateSync(path.join(fa, 'big.bin'), 3 * 1024 * 1024)
    fs.chmodSync(path.join(fa, 'x/y/z/deep.txt'), 0o600)
    await same('modified')
    const before = b.blockStats().bytesIn
    fs.renameSync(path.join(fa, 'big.bin'), path.join(fa, 'x/moved.bin'))
    await same('renamed')
    assert.equal(b.blockStats().bytesIn, before, 'a rename moves no chunk over the wire')
    fs.rmSync(path.join(fa, 'x/y'), { recursive: true })
    fs.unlinkSync(path.join(fa, 'hello.txt'))
    await same('deleted')
    fs.writeFileSync(path.join(fb, 'from-b.txt'), 'b wrote this')
    await same('written on b')
    assert.ok(progress.length > 0, 'progress comes as folder events (the API streams them on its WebSocket)')
  })

  test('a concurrent edit keeps both versions: the newer under the name, the other as a conflict copy on both nodes', { timeout: 600_000 }, async () => {
    fs.writeFileSync(path.join(fa, 'notes.txt'), 'v1')
    await same('v1')
    const v1 = a.space(space).fileGet('notes.txt')?.current.id
    await b.stop()
    fs.writeFileSync(path.join(fb, 'notes.txt'), 'edited on b, offline')
    fs.utimesSync(path.join(fb, 'notes.txt'), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000))
    fs.writeFileSync(path.join(fa, 'notes.txt'), 'edited on a, newer')
    await a.folderSync(space)
    const newer = a.space(space).fileGet('notes.txt')?.current
    assert.ok(newer !== undefined && newer.size === 'edited on a, newer'.length, 'a recorded its edit')
    b = Node.open({ dir: path.join(root, 'b') })
    await b.start()
    await same('after the conflict')
    const names = treeHashes(fa).map(([p]) => p).filter(p => p.startsWith('notes'))
    assert.equal(names.length, 2, `the file and one conflict copy: ${names.join(', ')}`)
    assert.equal(fs.readFileSync(path.join(fa, 'notes.txt'), 'utf8'), 'edited on a, newer')
    const copy = names.find(p => p !== 'notes.txt') as string
    assert.match(copy, /^notes\.sync-conflict-\d{8}-\d{6}-[0-9A-F]{7}\.txt$/)
    assert.equal(fs.readFileSync(path.join(fb, copy), 'utf8'), 'edited on b, offline')
    // Resolved in the space: the record that ends it (newer's content, superseding both edits) has reached a.
    // Both nodes may record it at once: those records have the same content, so they are one version, not a conflict
    // (docs/architecture.md, Folder sync, step 4); each of them supersedes both edits.
    const heads = (): FileVersion[] => { const f = a.space(space).fileGet('notes.txt'); return f === undefined ? [] : [f.current, ...f.conflicts] }
    const resolves = (h: FileVersion): boolean => {
      const ids = h.supersedes.map(x => Buffer.from(x).toString('hex'))
      return !h.deleted && h.size === newer.size && JSON.stringify(h.chunks) === JSON.stringify(newer.chunks) && ids.includes(newer.id) && ids.some(x => x !== newer.id && x !== v1)
    }
    await waitFor(() => heads().length > 0 && heads().every(resolves), 10_000, () => JSON.stringify(heads().map(h => ({ id: h.id, size: h.size, author: h.author, supersedes: h.supersedes.map(x => Buffer.from(x).toString('hex')) }))))
    assert.ok(heads().length <= 2, 'at most one resolving record per node')
    // The copies listed are those a's last scan saw: one more pass, so the copy written meanwhile is among them.
    await a.folderSync(space)
    const listed = a.conflicts(space).find(c => c.path === 'notes.txt')
    assert.deepEqual(listed?.versions, [], 'no version left unresolved')
    assert.deepEqual(listed?.copies, [copy], 'the API lists the conflict copy')
  })

  test('a big file lists its chunks in parts; an insert records only the part it changed and moves about its size', { timeout: 600_000 }, async () => {
    const big = path.join(fa, 'big.img')
    // 120 MiB: about 1,900 chunks of 64 KiB, more than one record lists inline.
    // Fixed pseudo-random bytes: where parts are cut depends on the chunk hashes, so random bytes made the part
    // counts below a lottery (no content cut in ~15% of draws: the edit then shifted a fixed cut and changed two parts).
    // These cut 5 parts, and the insert changes one.
    const head = seededBytes(60 * 1024 * 1024, 'head')
    const tail = seededBytes(60 * 1024 * 1024, 'tail')
    // Each version appears whole (renamed into place), so no pass of a's can record a half-written one, however slow the write.
    const put = (bytes: Buffer): void => { fs.writeFileSync(path.join(root, 'big.tmp'), bytes); fs.renameSync(path.join(root, 'big.tmp'), big) }
    const ownEntries = (): number => a.space(space).vector().filter(f => Buffer.from(f.author).equals(a.keyPair.publicKey)).reduce((n, f) => n + f.count, 0)
    const before = ownEntries()
    put(Buffer.concat([head, tail]))
    await same('a 120 MiB file', 270_000)
    const first = ownEntries() - before
    const chunks = b.space(space).fileGet('big.img')?.current.chunks.length ?? 0
    assert.ok(chunks > 1500, `${chunks} chunks: more than one record holds inline`)
    assert.ok(first >= 3, `its record and at least two parts: ${first} entries`)
    const received = b.blockStats().bytesIn
    const recorded = ownEntries()
    put(Buffer.concat([head, seededBytes(1024 * 1024, 'insert'), tail]))
    await same('1 MiB inserted in the middle', 270_000)
    const moved = b.blockStats().bytesIn - received
    assert.ok(moved <= 1.2 * 1024 * 1024 + 2 * 256 * 1024, `an insert of 1 MiB moved ${moved} bytes`)
    const second = ownEntries() - recorded
    assert.ok(second < first, `the edit recorded ${second} entries (the new record and the parts it changed), the first version ${first}`)
    assert.equal(b.folderStatus(space).status.errors.length, 0)
  })

  test('modes: send-only sends and does not apply; receive-only applies and does not send', { timeout: 600_000 }, async () => {
    const names = ['c', 'd', 'e'] as const
    const nodes = names.map(n => Node.open({ dir: path.join(root, n) }))
    const [c, d, e] = nodes as [Node, Node, Node]
    const dirs = names.map(n => path.join(root, `f${n}`))
    const [fc, fd, fe] = dirs as [string, string, string]
    for (const n of nodes) await n.start()
    try {
      const s2 = c.createSpace('modes').id
      await d.join(c.invite(s2, 'writer', 1, 3_600_000).token)
      await e.join(c.invite(s2, 'writer', 1, 3_600_000).token)
      // A send-only node holds only its own files: d fetches e's from e itself.
      await d.dial(e.id().addrs[0] as string)
      for (const dir of dirs) fs.mkdirSync(dir)
      fs.writeFileSync(path.join(fc, 'from-c.txt'), 'c')
      fs.writeFileSync(path.join(fd, 'from-d.txt'), 'd')
      fs.writeFileSync(path.join(fe, 'from-e.txt'), 'e')
      await c.folderAdd(s2, fc, 'send-only')
      await d.folderAdd(s2, fd, 'receive-only')
      await e.folderAdd(s2, fe, 'send-receive')
      const has = (dir: string, f: string): boolean => fs.existsSync(path.join(dir, f))
      await waitFor(() => has(fd, 'from-c.txt') && has(fd, 'from-e.txt') && has(fe, 'from-c.txt'), 20_000, () => JSON.stringify(d.folderStatus(s2).status))
      for (const n of nodes) await n.folderSync(s2)
      assert.equal(has(fc, 'from-e.txt'), false, 'the send-only node did not apply what others wrote')
      assert.equal(has(fc, 'from-d.txt') || has(fe, 'from-d.txt'), false, 'the receive-only node did not send its file')
      assert.equal(e.space(s2).fileGet('from-d.txt'), undefined, 'not even a record of it')
    } finally {
      for (const n of nodes) await n.stop()
    }
  })
})
