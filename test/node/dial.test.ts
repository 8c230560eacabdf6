import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Node } from '../../src/node/index.ts'
import { peerIdOf } from '../../src/identity/index.ts'
import { seededKey } from '../helpers/fixtures.ts'

/**
 * "Link to this address" (POST /v1/peers) refuses with a code that says why: each of these was a 500 INTERNAL, "see
 * its log", with a stack trace in the log (a review's probe).
 */
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samepage-dial-'))
after(() => fs.rmSync(root, { recursive: true, force: true }))

test('a given address that is none, this node\'s own, or not reached now: BAD_INPUT, BAD_PEER, PEER_UNREACHABLE', async () => {
  const node = Node.open({ dir: path.join(root, 'n'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  await node.start()
  try {
    const refusal = async (addr: string): Promise<string> => {
      try {
        await node.dial(addr)
        return 'none'
      } catch (err) {
        return `${(err as { code?: string }).code}: ${(err as Error).message}`
      }
    }
    assert.match(await refusal('not-an-address'), /^BAD_INPUT: "not-an-address" is not an address; one looks like/)
    const own = node.id().addrs[0] as string
    assert.match(await refusal(own), /^BAD_PEER: .* is this node's own address/)
    const nobody = `/ip4/127.0.0.1/tcp/1/p2p/${peerIdOf(seededKey('dial', 'nobody').publicKey)}`
    assert.match(await refusal(nobody), /^PEER_UNREACHABLE: .* was not reached now \(.+\); this node keeps dialling it/)
  } finally {
    await node.stop()
  }
})
