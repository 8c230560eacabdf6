import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { TestContext } from 'node:test'
import { Node } from '../../src/node/index.ts'
import type { NodeOptions } from '../../src/node/index.ts'

/**
 * In-process nodes on 127.0.0.1, one per name, each in its own directory of one temporary root, started in order
 * with the same `options`.
 * The test's end stops those still in the array (a test that stops one itself takes it out) and removes the root.
 */
export async function startedNodes (
  t: TestContext, names: readonly string[], options: Omit<NodeOptions, 'dir'> = {}
): Promise<Node[]> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-nodes-'))
  const nodes: Node[] = []
  t.after(async () => {
    for (const n of nodes) await n.stop()
    fs.rmSync(root, { recursive: true, force: true })
  })
  for (const name of names) {
    const n = Node.open({ ...options, dir: path.join(root, name) })
    nodes.push(n)
    await n.start()
  }
  return nodes
}
