import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import zlib from 'node:zlib'
import { ChunkIndex, scanFolder } from '../../src/files/index.ts'
import { nodeFolderFs } from '../../src/files/folder-fs.ts'
import type { FolderFs } from '../../src/files/folder-fs.ts'
import { toHex } from '../../src/codec/index.ts'

/**
 * The chunk index serves only bytes that are still what its scan found (decision 16): a file
 * rewritten in place under the very stat it was scanned with (same size,
 * mtime put back, same inode) is answered "changed", reported once, and not
 * read again until it is indexed anew.
 */
describe('chunk index: serve only what is as scanned', { timeout: 60_000 }, () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-chunk-index-'))
  after(() => { fs.rmSync(root, { recursive: true, force: true }) })

  // Checked by the CRC-32 its scan took where there is one, else by its hash (a file this node wrote, or one known
  // from before a restart): either way a change under the same stat is seen.
  for (const crcs of [true, false]) {
    const how = crcs ? 'by the CRC-32s of its scan' : 'by its hash (no CRC-32s known)'
    test(`a chunk is served checked ${how}; a file rewritten under the same stat answers "changed", reported once`,
      async () => { await rewrittenUnderSameStat(crcs) })
  }

  async function rewrittenUnderSameStat (crcs: boolean): Promise<void> {
    const file = path.join(root, `data-${crcs}.bin`)
    fs.writeFileSync(file, crypto.randomBytes(1024 * 1024))
    const scanned = await scanFolder(root)
    const own = scanned.files.find(f => f.path === path.basename(file))!
    const bytes = fs.readFileSync(file)
    let at = 0
    const want = own.chunks.map(([, size]) => zlib.crc32(bytes.subarray(at, at += size)))
    assert.deepEqual([...own.checks ?? []], want, 'the scan gives the CRC-32 of each chunk')
    const files = crcs ? [own] : [{ ...own, checks: undefined }]
    const scan = { files, read: scanned.read }
    const changed: string[] = []
    const index = new ChunkIndex(root, p => changed.push(p))
    index.rebuild(scan.files, scan.read)
    const chunks = (scan.files[0] as (typeof scan.files)[0]).chunks
    assert.ok(chunks.length > 2)
    const first = toHex(chunks[0]![0])
    const served = await index.serve(first)
    assert.ok(served instanceof Uint8Array)
    assert.equal(toHex(crypto.hash('sha256', served, 'buffer')), first)
    assert.equal(await index.serve('00'.repeat(32)), null, 'a chunk never held is not "changed"')

    // Rewritten in place, the same size, the mtime put back: the stat check cannot see it.
    const st = fs.statSync(file)
    const fd = fs.openSync(file, 'r+')
    fs.writeSync(fd, crypto.randomBytes(1024 * 1024), 0, 1024 * 1024, 0)
    fs.closeSync(fd)
    fs.utimesSync(file, st.atime, st.mtime)
    assert.equal(fs.statSync(file).ino, st.ino)
    assert.equal(await index.serve(first), 'changed')
    assert.equal(await index.serve(toHex(chunks[1]![0])), 'changed', 'the rest of the file is not read again')
    assert.deepEqual(changed, [path.basename(file)], 'reported once')

    // Scanned again (as the folder does after the report): its new chunks serve.
    const again = await scanFolder(root)
    index.rebuild(again.files, again.read)
    const now = toHex(again.files.find(f => f.path === path.basename(file))!.chunks[0]![0])
    assert.ok((await index.serve(now)) instanceof Uint8Array)
    index.close()
    fs.rmSync(file)
  }

  test('an earlier indexing of a path is never read: a file written over since is not reported for its old chunks', async () => {
    const file = path.join(root, 'b.bin')
    fs.writeFileSync(file, crypto.randomBytes(256 * 1024))
    const index = new ChunkIndex(root, p => { throw new Error(`${p} reported`) })
    const old = (await scanFolder(root)).files.find(f => f.path === 'b.bin')!
    index.add(old, true)
    fs.writeFileSync(file, crypto.randomBytes(256 * 1024))
    const fresh = (await scanFolder(root)).files.find(f => f.path === 'b.bin')!
    index.add(fresh, true)
    assert.equal(await index.serve(toHex(old.chunks[0]![0])), 'changed')
    assert.ok((await index.serve(toHex(fresh.chunks[0]![0]))) instanceof Uint8Array)
    index.close()
  })

  test('only files this process read or wrote are read on the main thread; one unchanged since an earlier run is not',
    async () => {
      fs.writeFileSync(path.join(root, 'cold.bin'), crypto.randomBytes(256 * 1024))
      fs.writeFileSync(path.join(root, 'warm.bin'), crypto.randomBytes(256 * 1024))
      const onMainThread: string[] = []
      const counting: FolderFs = {
        ...nodeFolderFs,
        fstatNow: fd => { onMainThread.push(`fstat ${fd}`); return fs.fstatSync(fd) },
        readNow: (fd, into, position) => { onMainThread.push(`read ${fd}`); return fs.readSync(fd, into, 0, into.length, position) }
      }
      // An earlier run's scan: this run finds both files unchanged and reads neither; then warm.bin is written anew.
      const earlier = await scanFolder(root)
      const index = new ChunkIndex(root, () => {}, counting)
      const unchanged = await scanFolder(root, { previous: new Map(earlier.files.map(f => [f.path, f])) })
      assert.deepEqual([...unchanged.read], [])
      index.rebuild(unchanged.files, unchanged.read)
      const chunkOf = (scan: typeof earlier, name: string): string => toHex(scan.files.find(f => f.path === name)!.chunks[0]![0])
      assert.ok((await index.serve(chunkOf(unchanged, 'cold.bin'))) instanceof Uint8Array)
      assert.deepEqual(onMainThread, [], 'a cold file goes through the thread pool')

      fs.writeFileSync(path.join(root, 'warm.bin'), crypto.randomBytes(256 * 1024))
      // Within the millisecond of the first write, its stat would be the same (a loaded machine failed this test).
      const later10s = new Date(fs.statSync(path.join(root, 'warm.bin')).mtimeMs + 10_000)
      fs.utimesSync(path.join(root, 'warm.bin'), later10s, later10s)
      const next = await scanFolder(root, { previous: new Map(unchanged.files.map(f => [f.path, f])) })
      assert.deepEqual([...next.read], ['warm.bin'])
      index.rebuild(next.files, next.read)
      assert.ok((await index.serve(chunkOf(next, 'warm.bin'))) instanceof Uint8Array)
      assert.equal(onMainThread.length, 2, 'a file the scan just read is stat-ed and read on the main thread')
      assert.ok((await index.serve(chunkOf(next, 'cold.bin'))) instanceof Uint8Array)
      assert.equal(onMainThread.length, 2, 'still not the cold one')

      // A later scan reads neither: warm.bin stays warm (same stat), cold.bin stays cold.
      const later = await scanFolder(root, { previous: new Map(next.files.map(f => [f.path, f])) })
      index.rebuild(later.files, later.read)
      assert.ok((await index.serve(chunkOf(later, 'warm.bin'))) instanceof Uint8Array)
      assert.ok((await index.serve(chunkOf(later, 'cold.bin'))) instanceof Uint8Array)
      assert.equal(onMainThread.length, 4)
      index.close()
    })

  test('a rebuild keeps the indexing of a file it finds unchanged: a serve under way still gets its bytes', async () => {
    fs.writeFileSync(path.join(root, 'kept.bin'), crypto.randomBytes(256 * 1024))
    let release!: () => void
    const held = new Promise<void>(resolve => { release = resolve })
    let opens = 0
    const gated: FolderFs = {
      ...nodeFolderFs,
      open: async (f, flags, mode) => { opens++; await held; return await nodeFolderFs.open(f, flags, mode) }
    }
    const index = new ChunkIndex(root, p => { throw new Error(`${p} reported`) }, gated)
    // Indexed from a scan of an earlier run's result (nothing read: the thread pool's reads, as for most files).
    const earlier = await scanFolder(root)
    const scan = await scanFolder(root, { previous: new Map(earlier.files.map(f => [f.path, f])) })
    index.rebuild(scan.files, scan.read)
    const hash = toHex(scan.files.find(f => f.path === 'kept.bin')!.chunks[0]![0])
    // The serve waits in its open while the next scan (which finds every file unchanged) is indexed.
    const serving = index.serve(hash)
    const again = await scanFolder(root, { previous: new Map(scan.files.map(f => [f.path, f])) })
    assert.deepEqual([...again.read], [])
    index.rebuild(again.files, again.read)
    release()
    assert.ok((await serving) instanceof Uint8Array, 'not "changed": the file is as scanned')
    assert.ok((await index.serve(hash)) instanceof Uint8Array)
    assert.equal(opens, 1, 'the file stays open across the rebuild')
    index.close()
  })

  test('more files read at once than are kept open: each read gets its bytes, none is taken for a changed file', async () => {
    const dir = fs.mkdtempSync(path.join(root, 'many-'))
    for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(dir, `f${i}.bin`), crypto.randomBytes(64 * 1024))
    // Every open waits until all 20 serves have asked for theirs: the 17th closes the first file kept open, and so on.
    let release!: () => void
    const held = new Promise<void>(resolve => { release = resolve })
    const open: number[] = []
    const gated: FolderFs = {
      ...nodeFolderFs,
      open: async (f, flags, mode) => {
        await held
        const h = await nodeFolderFs.open(f, flags, mode)
        const fd = h.fd
        open.push(fd)
        const close = h.close.bind(h)
        h.close = async () => { open.splice(open.indexOf(fd), 1); await close() }
        return h
      }
    }
    const index = new ChunkIndex(dir, p => { throw new Error(`${p} reported changed`) }, gated)
    const scan = await scanFolder(dir)
    index.rebuild(scan.files, new Set()) // read through the handles, as for a file unchanged since an earlier run
    const serving = scan.files.map(f => index.serve(toHex(f.chunks[0]![0])))
    release()
    const served = await Promise.all(serving)
    assert.deepEqual(served.map(b => b instanceof Uint8Array), scan.files.map(() => true))
    assert.equal(open.length, 16, 'the files closed once their reads were done; 16 stay open')
    index.close()
    await new Promise(resolve => setImmediate(resolve)) // each close is called once its open has settled: at once
    assert.equal(open.length, 0)
  })
})
