import { parseArgs } from 'node:util'
import { startDaemon } from '../../src/cli/start.ts'
import type { BlockServed } from '../../src/net/index.ts'

/**
 * A test daemon: the real `samepage start` (same arguments, as the e2e
 * harness passes them to its `entry`) whose block provider serves every
 * chunk with its first byte flipped, after the honest provider checked and
 * read it, so the receiver must still catch the bytes, and blame this node.
 * The fault is injected here, from the test side: no production code reads
 * a switch for it.
 */
export async function corruptBlocks (honest: () => Promise<BlockServed>): Promise<BlockServed> {
  const bytes = await honest()
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) return bytes
  const bad = Uint8Array.from(bytes)
  bad[0] = (bad[0] as number) ^ 0xff
  return bad
}

const { values } = parseArgs({
  allowPositionals: true,
  options: {
    dir: { type: 'string' },
    json: { type: 'boolean', default: false },
    listen: { type: 'string', multiple: true, default: [] },
    peer: { type: 'string', multiple: true, default: [] },
    api: { type: 'string' },
    'max-up': { type: 'string' },
    'max-down': { type: 'string' }
  }
})
if (values.dir === undefined) throw new Error('corrupting-daemon: --dir is required')
await startDaemon({
  dir: values.dir,
  json: values.json,
  listen: values.listen,
  peer: values.peer,
  ...(values.api === undefined ? {} : { api: values.api }),
  ...(values['max-up'] === undefined ? {} : { maxUp: values['max-up'] }),
  ...(values['max-down'] === undefined ? {} : { maxDown: values['max-down'] })
}, { blockAnswers: async (_request, honest) => await corruptBlocks(honest) })
