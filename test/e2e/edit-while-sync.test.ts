import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { treeHashes } from '../files/tree.ts'
import { cli, eventually, ok, startDaemon, stop, tempRoot } from './harness.ts'
import type { Daemon } from './harness.ts'

/**
 * A file rewritten continuously while it syncs (decision 16): three real
 * daemons in a line, A ── B ── C (A and C joined through B), share a
 * folder; this process rewrites a 16 MiB file in B's folder for 60 s (new
 * content every 0.4-1 s, mostly in place under the same size and inode,
 * sometimes truncated first; at most 200 times) while A and C fetch each
 * version B records from B. B reads chunks of a file that moves under it:
 * it must answer "changed" for what no longer hashes right, never send such
 * bytes as good, so nobody blames it. After the
 * writer stops, the three folders converge to the last content, no node
 * records misbehaviour against anyone, and every node is still connected
 * (none banned).
 */
const WRITE_FOR_MS = 60_000
const WRITES_MAX = 200
const FILE_BYTES = 16 * 1024 * 1024

describe('a file edited while three nodes sync it', { timeout: 600_000 }, () => {
  const root = tempRoot()
  const names = ['a', 'b', 'c'] as const
  const dirs = Object.fromEntries(names.map(n => [n, path.join(root, n)])) as Record<(typeof names)[number], string>
  const folders = Object.fromEntries(names.map(n => [n, path.join(root, `${n}-files`)])) as Record<(typeof names)[number], string>
  const daemons: Daemon[] = []
  let space = ''

  before(async () => {
    for (const n of names) fs.mkdirSync(folders[n], { recursive: true })
    for (const n of names) daemons.push(await startDaemon(dirs[n]))
    space = ok(dirs.b, 'space', 'create', 'live').id
    ok(dirs.b, 'folder', 'add', space, folders.b)
    for (const n of ['a', 'c'] as const) {
      ok(dirs[n], 'space', 'join', ok(dirs.b, 'space', 'invite', space, '--role', 'writer').token)
      await eventually(`${n} holds the space`, () => cli(dirs[n], 'space', 'list').json as { id: string, role: string }[], l => l.some(s => s.id === space && s.role === 'writer'))
      ok(dirs[n], 'folder', 'add', space, folders[n])
    }
  })

  after(async () => {
    for (const d of daemons) await stop(d, 'SIGKILL')
    fs.rmSync(root, { recursive: true, force: true })
  })

  test('rewritten for 60 s on B: all three converge to the last content, with no misbehaviour recorded anywhere and nobody banned', async () => {
    const file = path.join(folders.b, 'live.bin')
    let last = crypto.randomBytes(FILE_BYTES)
    fs.writeFileSync(file, last)
    const started = Date.now()
    let writes = 0
    while (Date.now() - started < WRITE_FOR_MS && writes < WRITES_MAX) {
      // Pauses long enough for B to record a version and for A and C to start fetching it, short enough that the
      // next write often lands while they do: B then reads chunks of a file that moves under the read.
      await new Promise(resolve => setTimeout(resolve, 400 + crypto.randomInt(600)))
      last = crypto.randomBytes(FILE_BYTES)
      if (writes % 4 === 3) {
        // Truncated and written again: a reader may see it short.
        fs.writeFileSync(file, last)
      } else {
        // In place, the same size, the same inode: only the mtime tells, and a read that checked the stat just before sees new bytes.
        const fd = fs.openSync(file, 'r+')
        fs.writeSync(fd, last, 0, last.length, 0)
        fs.closeSync(fd)
      }
      writes++
    }
    const want = crypto.hash('sha256', last)
    assert.equal(crypto.hash('sha256', fs.readFileSync(file)), want)
    const shaOf = (f: string): string | null => fs.existsSync(f) ? crypto.hash('sha256', fs.readFileSync(f)) : null
    try {
      await eventually('A, B and C hold the last content', () => names.map(n => shaOf(path.join(folders[n], 'live.bin'))), s => s.every(x => x === want), 240_000)
    } catch (err) {
      throw new Error(`${(err as Error).message}\nmisbehaviour: ${JSON.stringify(names.map(n => cli(dirs[n], 'misbehaviour').json))}`)
    }
    // Nothing else appeared (no conflict copy: only B wrote), and every folder is the same.
    const trees = names.map(n => JSON.stringify(treeHashes(folders[n])))
    assert.ok(trees.every(t => t === trees[0]), trees.join('\n'))
    for (const n of names) assert.deepEqual(ok(dirs[n], 'misbehaviour'), [], `${n} recorded no misbehaviour`)
    // Nobody cut off or banned (a ban lasts minutes): connected now, or again after a redial under load.
    const [a, b, c] = daemons.map(d => d.peerId) as [string, string, string]
    const connected = (n: (typeof names)[number]): string[] => (ok(dirs[n], 'peers') as { peerId: string }[]).map(p => p.peerId)
    await eventually('B is connected to A and C', () => connected('b'), l => l.includes(a) && l.includes(c), 60_000)
    await eventually('A and C are connected to B', () => [...connected('a'), ...connected('c')].filter(p => p === b).length, n => n === 2, 60_000)
    const stats = names.map(n => (ok(dirs[n], 'stats') as { blocks: { bytesIn: number, changed?: number } }).blocks)
    console.log(`# ${writes} writes in ${Math.round((Date.now() - started) / 1000)} s; chunk bytes received: ${stats.map((s, i) => `${names[i]} ${s.bytesIn}`).join(', ')}; answered "changed": ${stats.map((s, i) => `${names[i]} ${s.changed ?? 0}`).join(', ')}`)
  })
})
