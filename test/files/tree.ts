import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

/**
 * Hashes already taken, by path, under the stat they were taken at. A wait polls the trees every 50 ms on the thread
 * that also runs the nodes under test (test/node/folder-sync.test.ts runs two in this process): reading and hashing
 * every file at each poll (two copies of a 120 MiB file, ~0.5 s quiet, seconds at load 4) left the nodes a sliver of
 * the time, and an insert into that file passed 235 s at load 4 and failed CI at 270 s. A hash is kept only for a
 * file whose change time was more than STABLE_MS past when it was read (git's "racy clean" rule): the kernel stamps
 * times from a coarse clock, so a second write of the same size within one tick could otherwise keep every stamp.
 */
const hashed = new Map<string, { readonly stat: string, readonly hash: string }>()
const HASHED_MAX = 100_000
const STABLE_MS = 2_000n

function hashOf (abs: string): string {
  const before = fs.statSync(abs, { bigint: true })
  const stat = `${before.dev}:${before.ino}:${before.size}:${before.mtimeNs}:${before.ctimeNs}`
  const known = hashed.get(abs)
  if (known?.stat === stat) return known.hash
  const hash = crypto.hash('sha256', fs.readFileSync(abs), 'hex').slice(0, 16)
  const stableAt = before.ctimeNs / 1_000_000n + STABLE_MS
  if (BigInt(Date.now()) > stableAt) {
    if (hashed.size >= HASHED_MAX) hashed.clear()
    hashed.set(abs, { stat, hash })
  }
  return hash
}

/** Every file under `root` (not the work area) with its SHA-256 and permission bits, sorted: two folders are the same when these are. */
export function treeHashes (root: string): [path: string, sha256: string, mode: string][] {
  const out: [string, string, string][] = []
  const walk = (rel: string): void => {
    for (const d of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const p = rel === '' ? d.name : `${rel}/${d.name}`
      if (p === '.samepage') continue
      if (d.isDirectory()) walk(p)
      else if (d.isFile()) {
        const abs = path.join(root, p)
        out.push([p, hashOf(abs), (fs.statSync(abs).mode & 0o7777).toString(8)])
      }
    }
  }
  walk('')
  return out.sort((x, y) => (x[0] < y[0] ? -1 : 1))
}

/** treeHashes as one string; a file renamed or deleted during the walk (a node at work) makes it differ from every other walk's, so a wait walks again. */
export function treeKey (root: string): string {
  try {
    return JSON.stringify(treeHashes(root))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return `${root} changed during the walk: ${(err as Error).message}`
    throw err
  }
}

/** The limit is a safety net, never a race (see test/e2e/harness.ts): at least 180 s whatever the caller asked. */
export async function waitFor (ok: () => boolean, timeoutMs: number, explain: () => string): Promise<void> {
  const limit = Math.max(timeoutMs, 180_000)
  const deadline = Date.now() + limit
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`not within ${limit} ms: ${explain()}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}
