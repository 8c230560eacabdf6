import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

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
        out.push([p, crypto.hash('sha256', fs.readFileSync(abs), 'hex').slice(0, 16), (fs.statSync(abs).mode & 0o7777).toString(8)])
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
