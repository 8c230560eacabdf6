import fs from 'node:fs'
import path from 'node:path'
import type { Libp2p } from 'libp2p'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import type { BrowserContext, Page } from 'playwright-core'
import { cidFromString, encodeMessage } from '../../src/codec/index.ts'
import { peerIdOf } from '../../src/identity/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { signStatus } from '../../src/space/index.ts'
import { SYNC_PROTOCOL } from '../../src/net/index.ts'
import { ok, startDaemon, stop, tempRoot } from './harness.ts'
import type { Daemon } from './harness.ts'
import { createHostilePeer } from '../helpers/hostile-peer.ts'
import { openBrowser } from './browser.ts'

/**
 * A daemon A with a space `team` and a deployment whose status space lets `reporters` publish (readers), a
 * browser to read A's dashboard, and a way to hand A well-signed status records with any body, as a hostile
 * member would. `close()` stops all of it and removes its directory.
 */
export interface ForgedStatusBench {
  readonly a: Daemon
  readonly dep: string
  readonly page: Page
  send: (records: readonly { readonly author: KeyPair, readonly body: Record<string, unknown> }[]) => Promise<void>
  close: () => Promise<void>
}

export async function forgedStatusBench (
  reporters: readonly KeyPair[], prepare: (a: Daemon) => void = () => {}
): Promise<ForgedStatusBench> {
  const root = tempRoot()
  const a = await startDaemon(path.join(root, 'a'))
  ok(a.dir, 'space', 'create', 'team')
  prepare(a)
  ok(a.dir, 'space', 'invite', 'team', '--role', 'writer') // makes the deployment
  const dep = (ok(a.dir, 'status') as { deployment: string[] }).deployment[0] as string
  for (const k of reporters) ok(a.dir, 'acl', 'grant', dep, peerIdOf(k.publicKey), 'reader')
  let context: BrowserContext | undefined
  let hostile: Libp2p | undefined
  const opened = await openBrowser(root)
  context = opened.context
  const depBytes = (cidFromString(dep) as NonNullable<ReturnType<typeof cidFromString>>).bytes
  return {
    a,
    dep,
    page: opened.page,
    send: async records => {
      hostile ??= await createHostilePeer()
      const conn = await hostile.dial(multiaddr(a.addrs[0] as string))
      const lp = lpStream(await conn.newStream(SYNC_PROTOCOL))
      for (const { author, body } of records) {
        const clock = { wallMs: Date.now(), counter: 0 }
        const record = signStatus(author, { space: depBytes, author: author.publicKey, clock, body })
        await lp.write(encodeMessage({ m: 'status', space: depBytes, record: [record.bytes, record.sig] }))
      }
    },
    close: async () => {
      await context?.close().catch(() => {})
      context = undefined
      await hostile?.stop()
      await stop(a, 'SIGKILL')
      fs.rmSync(root, { recursive: true, force: true })
    }
  }
}
