import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { TestContext } from 'node:test'
import { Node } from '../../src/node/index.ts'
import type { NodeOptions } from '../../src/node/index.ts'

/**
 * In-process nodes on 127.0.0.1, one per name, each in its own directory of one temporary root, started in order
 * with `options` (the same for each, or each name's own).
 * The test's end stops those still in the array (a test that stops one itself takes it out) and removes the root.
 */
type Options = Omit<NodeOptions, 'dir'>

export async function startedNodes (
  t: TestContext, names: readonly string[], options: Options | ((name: string) => Options) = {}
): Promise<Node[]> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-nodes-'))
  const nodes: Node[] = []
  t.after(async () => {
    for (const n of nodes) await n.stop()
    fs.rmSync(root, { recursive: true, force: true })
  })
  for (const name of names) {
    const n = Node.open({ ...typeof options === 'function' ? options(name) : options, dir: path.join(root, name) })
    nodes.push(n)
    await n.start()
  }
  return nodes
}

/** Waits for a state the nodes reach by their messages alone; bounded only against a hang, never a race. */
export async function untilHeld (ok: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 120_000
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`not reached in 120 s: ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}
