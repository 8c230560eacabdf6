import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Node } from '../../src/node/index.ts'
import { ApiServer } from '../../src/api/server.ts'

/** A node (not on the network) and its API on a free port of 127.0.0.1, both stopped and removed after the test. */
export async function apiNode (
  t: { after: (fn: () => Promise<void>) => void }, onStopRequest?: () => void, apiHosts?: readonly string[]
): Promise<{ node: Node, dir: string, url: string, token: string, auth: { authorization: string } }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-api-'))
  const node = Node.open({ dir })
  const api = new ApiServer({ node, host: '127.0.0.1', port: 0, apiHosts, ...(onStopRequest === undefined ? {} : { onStopRequest }) })
  const { url, token } = await api.start()
  t.after(async () => {
    await api.stop()
    await node.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  return { node, dir, url, token, auth: { authorization: `Bearer ${token}` } }
}
