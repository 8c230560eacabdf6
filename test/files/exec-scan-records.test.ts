import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { toHex } from '../../src/codec/index.ts'
import { FaultyFs, MemoryDisk } from './fake-fs.ts'
import { fakeFolder } from './fake-folder.ts'
import type { FakeFolder } from './fake-folder.ts'

/**
 * A first scan of a big folder records its new files in batches while it goes on (src/files/scan-records.ts, issue
 * 14): a peer starts pulling before the scan ends. The scanner is held at a file of the last directory (a FaultyFs
 * rule that runs when it opens that file to read it) and the test looks at what is recorded, and served, then. The
 * scanner walks directories in name order, so everything in a/ is scanned by then. No time is measured.
 */
const T = Date.UTC(2026, 0, 1)
const name = (i: number): string => `file${String(i).padStart(3, '0')}.txt`

/** `count` small files under `dir`, each its own content. */
function putFiles (disk: MemoryDisk, dir: string, count: number): void {
  for (let i = 0; i < count; i++) disk.put(`/f/${dir}/${name(i)}`, `${dir} ${i}`, T)
}

function countDecodes (f: FakeFolder): { n: number } {
  const count = { n: 0 }
  const files = f.space.files.bind(f.space)
  f.space.files = () => { count.n++; return files() }
  return count
}

describe('a scan records as it goes', () => {
  test('the first 256 new files are recorded, and their chunks served, before the scan reaches the last file',
    async () => {
      const disk = new MemoryDisk()
      const faults = new FaultyFs(disk.fs)
      const f = await fakeFolder(disk, faults.fs, '/f')
      putFiles(disk, 'a', 300)
      disk.put('/f/z/last.txt', 'scanned last', T)
      const seen = { records: -1, served: null as unknown, changedMeanwhile: false }
      faults.before('open', /\/z\/last\.txt$/, async () => {
        seen.records = f.space.versions.size
        const first = [...f.space.versions.values()][0]
        if (first === undefined) return
        seen.served = await f.sync.readChunk(toHex(first.chunks[0]![0]))
        // A recorded file changes before the scan ends: its record stays what was read; the next pass records the rest.
        disk.put(`/f/${first.path}`, 'edited during the scan', T + 1000)
        seen.changedMeanwhile = true
      })
      const decodes = countDecodes(f)
      await f.sync.sync()
      assert.equal(seen.records, 256, 'one commit of 256 went out while the scan was held')
      assert.ok(seen.served instanceof Uint8Array, 'a recorded file\'s chunk is served during the scan')
      assert.equal(f.space.versions.size, 301, 'every file recorded once')
      assert.deepEqual(f.errors(), {})
      // Once for the early batches and the end's plan (the folder's own records touch no path planned after them),
      // once again for the writes, which must see those records: as many as a pass that records at its end.
      assert.equal(decodes.n, 2)

      assert.ok(seen.changedMeanwhile)
      await f.sync.sync()
      assert.equal(f.space.versions.size, 302, 'the file edited during the scan: one more version')
      const edited = [...f.space.versions.values()].at(-1)!
      assert.equal(edited.size, 'edited during the scan'.length)
      assert.equal(edited.supersedes.length, 1)
    })

  test('only the first four batches of small files go early; the rest wait for 128 MiB of them or the end', async () => {
    const disk = new MemoryDisk()
    const faults = new FaultyFs(disk.fs)
    const f = await fakeFolder(disk, faults.fs, '/f')
    putFiles(disk, 'a', 1300)
    disk.put('/f/z/last.txt', 'scanned last', T)
    let atLast = -1
    faults.before('open', /\/z\/last\.txt$/, () => { atLast = f.space.versions.size })
    await f.sync.sync()
    assert.equal(atLast, 4 * 256)
    assert.equal(f.space.versions.size, 1301)
  })

  test('the commits of one batch are a turn of the event loop apart, so what each made goes out before the next',
    async () => {
      const disk = new MemoryDisk()
      const f = await fakeFolder(disk, disk.fs, '/f')
      // Four early batches of 256, then 277 files at the end of the scan: two commits.
      putFiles(disk, 'a', 1300)
      disk.put('/f/z/last.txt', 'scanned last', T)
      let turn = 0
      let ticking = true
      const tick = (): void => { turn++; if (ticking) setImmediate(tick) }
      setImmediate(tick)
      const turnOf: number[] = []
      const add = f.space.add.bind(f.space)
      f.space.add = (...args: Parameters<typeof add>) => { turnOf.push(turn); return add(...args) }
      try {
        await f.sync.sync()
      } finally {
        ticking = false
      }
      assert.equal(turnOf.length, 1301)
      const atEnd = turnOf.slice(4 * 256)
      assert.equal(atEnd[0], atEnd[255], 'one commit in one turn')
      assert.ok(atEnd[256]! > atEnd[255]!, 'the second commit a turn after the first')
    })

  test('a scan that fails records nothing more, though its other reads still find files', async () => {
    const disk = new MemoryDisk()
    const faults = new FaultyFs(disk.fs)
    const f = await fakeFolder(disk, faults.fs, '/f')
    putFiles(disk, 'a', 300)
    // The directory's files are scanned 16 at once: the others go on after this one fails, and reach 256. A fault of
    // samepage's own fails the scan (a refusal of the system fails only that file's path: unread-paths.test.ts).
    faults.before('open', /\/a\/file100\.txt$/, () => { throw new Error('the hashing thread is gone (injected)') })
    await f.sync.sync()
    assert.match(f.errors()['.'] ?? '', /hashing thread is gone/)
    for (let turn = 0; turn < 20; turn++) await new Promise(resolve => setImmediate(resolve))
    assert.equal(f.space.versions.size, 0, 'no batch recorded after the scan failed')
    await f.sync.sync()
    assert.equal(f.space.versions.size, 300)
    assert.deepEqual(f.errors(), {})
  })

  test('a refused early batch shows its paths\' errors, records none, and is not tried again in the same pass',
    async () => {
      const disk = new MemoryDisk()
      const f = await fakeFolder(disk, disk.fs, '/f')
      putFiles(disk, 'a', 256)
      putFiles(disk, 'b', 10)
      const tried = new Map<string, number>()
      const add = f.space.add.bind(f.space)
      f.space.add = (author, v) => {
        tried.set(v.path, (tried.get(v.path) ?? 0) + 1)
        if (v.path.startsWith('a/')) throw new Error('refused by the test')
        return add(author, v)
      }
      await f.sync.sync()
      const errors = f.errors()
      assert.equal(Object.keys(errors).length, 256)
      assert.equal(errors[`a/${name(7)}`], 'not shared: refused by the test')
      assert.equal(f.space.versions.size, 10, 'b/ recorded at the end of the scan')
      assert.deepEqual([...tried].filter(([p, n]) => p.startsWith('a/') && n !== 1), [], 'each refused path tried once')
    })

  test('a rescan of the unchanged folder records nothing and decodes the records once', async () => {
    const disk = new MemoryDisk()
    const f = await fakeFolder(disk, disk.fs, '/f')
    putFiles(disk, 'a', 600)
    await f.sync.sync()
    assert.equal(f.space.versions.size, 600)
    const decodes = countDecodes(f)
    await f.sync.sync()
    assert.equal(f.space.versions.size, 600)
    assert.equal(decodes.n, 1)
  })
})
