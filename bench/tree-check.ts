/**
 * When a receiver holds what was sent, for the folder benchmarks: arrival
 * is seen by size and mtime (cheap enough to poll), the bytes are checked
 * after, outside the time. Hashing streams, so that the bench process
 * neither holds a 1 GiB file in memory nor stops answering for seconds (its
 * HTTP keep-alive sockets to the nodes must stay serviced).
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { until } from './samepage-daemons.ts'
import type { TreeFile } from './tree-gen.ts'

/** The folders' own bookkeeping, not data: samepage's .samepage, Syncthing's .stfolder and temporary files. */
function isBookkeeping (dir: string, name: string): boolean {
  return dir.includes('.samepage') || dir.includes('.stfolder') || name.startsWith('.syncthing.')
}

/**
 * Until `target` has the size and mtime of `source` (both systems set the
 * mtime last, before the rename): that moment is returned. Its bytes are
 * checked after, outside the time; if they are not yet right (an older
 * version of the same size and mtime), the wait goes on until they are.
 */
export async function waitFile (target: string, source: string, timeoutMs = 600_000): Promise<number> {
  return (await waitFiles([target], source, timeoutMs))[0] as number
}

/**
 * waitFile for several receivers of one file: the moment each arrived, and the bytes of all checked once every one
 * has, so that the bench's hashing of the first (2 GiB read for a 1 GiB file) does not take the CPU of the others
 * still receiving.
 */
export async function waitFiles (targets: readonly string[], source: string, timeoutMs = 600_000): Promise<number[]> {
  const want = fs.statSync(source)
  const matches = (target: string): boolean => {
    const got = fs.statSync(target, { throwIfNoEntry: false })
    return got !== undefined && got.size === want.size && Math.abs(got.mtimeMs - want.mtimeMs) < 1000 &&
      got.mtimeMs >= Math.floor(want.mtimeMs / 1000) * 1000
  }
  const arrived: Array<number | undefined> = targets.map(() => undefined)
  await until(`${targets.join(', ')} match`, async () => {
    targets.forEach((t, i) => { if (arrived[i] === undefined && matches(t)) arrived[i] = performance.now() })
    return arrived.every(at => at !== undefined)
  }, timeoutMs, 20)
  const moments: number[] = []
  for (const [i, target] of targets.entries()) {
    if (await sameBytes(target, source)) { moments.push(arrived[i] as number); continue }
    await until(`${target} has the bytes`, async () => await sameBytes(target, source), timeoutMs, 100)
    moments.push(performance.now())
  }
  return moments
}

/** Until every file of `files` is under `dir` at its size; the moment, then the bytes checked against `source`'s. */
export async function waitTree (dir: string, source: string, files: readonly TreeFile[], timeoutMs = 600_000): Promise<number> {
  const arrived = (f: TreeFile): boolean => fs.statSync(path.join(dir, f.rel), { throwIfNoEntry: false })?.size === f.size
  await until(`${dir} holds the tree`, async () => files.every(arrived), timeoutMs, 50)
  const at = performance.now()
  if (await sameTree(source, dir)) return at
  await until(`${dir} has the bytes`, async () => await sameTree(source, dir), timeoutMs, 500)
  return performance.now()
}

async function hashFile (file: string): Promise<string> {
  try {
    const h = crypto.createHash('sha256')
    for await (const piece of fs.createReadStream(file, { highWaterMark: 4 * 1024 * 1024 })) h.update(piece as Buffer)
    return h.digest('hex')
  } catch {
    return ''
  }
}

export async function sameBytes (a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([hashFile(a), hashFile(b)])
  return x !== '' && x === y
}

export function countFiles (dir: string): number {
  let n = 0
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile() && !isBookkeeping(e.parentPath, e.name)) n++
  return n
}

/** Every data file of `a` is in `b` with the same bytes. */
export async function sameTree (a: string, b: string): Promise<boolean> {
  for (const e of fs.readdirSync(a, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || isBookkeeping(e.parentPath, e.name)) continue
    const rel = path.relative(a, path.join(e.parentPath, e.name))
    if (!await sameBytes(path.join(a, rel), path.join(b, rel))) return false
  }
  return true
}
