import fs from 'node:fs'
import path from 'node:path'
import type { TestContext } from 'node:test'
import type { FolderMode } from '../../src/files/index.ts'
import type { Node } from '../../src/node/index.ts'
import { startedNodes } from './started-nodes.ts'

/** A file's text, or null when it is not there. */
export function readText (p: string): string | null {
  try { return fs.readFileSync(p, 'utf8') } catch { return null }
}

/** Runs `pass` until `ok` (a state the nodes' messages reach; bounded only against a hang, never a race). */
export async function passesUntil (what: string, pass: () => Promise<unknown>, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + 120_000
  while (true) {
    await pass()
    if (ok()) return
    if (Date.now() > deadline) throw new Error(`not reached in 120 s: ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/**
 * Two started nodes sharing a new space: `a` created it and shares folder `fa` send-receive; `b` joined it as `role`
 * and shares folder `fb` in `mode`. `both()` runs a pass on a, then on b.
 */
export async function folderPair (t: TestContext, role: 'writer' | 'reader', mode: FolderMode): Promise<{
  a: Node, b: Node, space: string, fa: string, fb: string, both: () => Promise<void>
}> {
  const [a, b] = await startedNodes(t, ['a', 'b'], { listen: ['/ip4/127.0.0.1/tcp/0'] })
  if (a === undefined || b === undefined) throw new Error('two nodes')
  const space = a.createSpace('docs').id
  await b.join(a.invite(space, role, 1, 3_600_000).token)
  const fa = path.join(a.dir, '..', 'fa')
  const fb = path.join(a.dir, '..', 'fb')
  fs.mkdirSync(fa)
  fs.mkdirSync(fb)
  await a.folderAdd(space, fa)
  await b.folderAdd(space, fb, mode)
  const both = async (): Promise<void> => { await a.folderSync(space); await b.folderSync(space) }
  return { a, b, space, fa, fb, both }
}

/** Whether each file of `dir` named in `texts` holds its text (null: is not there). */
export function holdsTexts (dir: string, texts: Record<string, string | null>): boolean {
  return Object.entries(texts).every(([name, text]) => readText(path.join(dir, name)) === text)
}
