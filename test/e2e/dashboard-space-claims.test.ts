import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import type { Libp2p } from 'libp2p'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import type { BrowserContext, Page } from 'playwright-core'
import { cidFromString, encodeMessage } from '../../src/codec/index.ts'
import { keyPairFromSeed, peerIdOf } from '../../src/identity/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { signStatus } from '../../src/space/index.ts'
import { SYNC_PROTOCOL } from '../../src/net/index.ts'
import { eventually, ok, startDaemon, stop, tempRoot } from './harness.ts'
import type { Daemon } from './harness.ts'
import { createHostilePeer } from '../helpers/hostile-peer.ts'
import { openBrowser } from './browser.ts'

/**
 * A status record describes its author only. Two members of the deployment claim 2^53 − 1 entries and 2^53 − 1
 * members of the space `team`, which A holds in full: `outsider` is no member of `team` (a reader of the status
 * space only), `member` is a reader of `team`. A's daemon leaves the outsider's claims (its space and its folder)
 * out of /v1/net; the page takes the members from A's own ACL, measures "in step" against A's own entry count, and
 * shows the member's claim as a claim of more, not A as behind.
 */
const MAX = Number.MAX_SAFE_INTEGER
const root = tempRoot()
let a: Daemon
let hostile: Libp2p | undefined
let context: BrowserContext | undefined
let page: Page
const outsider = keyPairFromSeed(new Uint8Array(32).fill(77))
const member = keyPairFromSeed(new Uint8Array(32).fill(79))
let dep = ''

before(async () => {
  a = await startDaemon(path.join(root, 'a'))
  ok(a.dir, 'space', 'create', 'team')
  for (let i = 0; i < 3; i++) ok(a.dir, 'kv', 'put', 'team', `k${i}`, 'v')
  ok(a.dir, 'space', 'invite', 'team', '--role', 'writer') // makes the deployment
  dep = (ok(a.dir, 'status') as { deployment: string[] }).deployment[0] as string
  for (const k of [outsider, member]) ok(a.dir, 'acl', 'grant', dep, peerIdOf(k.publicKey), 'reader')
  ok(a.dir, 'acl', 'grant', 'team', peerIdOf(member.publicKey), 'reader')
  ;({ context, page } = await openBrowser(root))
})

after(async () => {
  await context?.close().catch(() => {})
  await hostile?.stop()
  await stop(a, 'SIGKILL')
  fs.rmSync(root, { recursive: true, force: true })
})

test('claims about a space are counted only from its members, and never demote the node holding every entry', { timeout: 300_000 }, async () => {
  const depBytes = (cidFromString(dep) as NonNullable<ReturnType<typeof cidFromString>>).bytes
  const mine = await eventually('A reports the space', () => ok(a.dir, 'net') as any,
    m => (m.nodes.find((n: any) => n.self)?.report?.spaces ?? []).some((s: any) => s.name === 'team'))
  const ownRow = mine.nodes.find((n: any) => n.self).report.spaces.find((s: any) => s.name === 'team')
  const spaceKey = ownRow.id as string // as A's own report names it
  const claim = (k: KeyPair, name: string): Uint8Array => {
    const body = { v: 1, n: name, ver: '1', st: Date.now(), p: 3_600_000, ld: [0, 0, 0], cpu: 1, mem: [1, 1, 1], dk: null, t: null,
      ln: [], sp: [[spaceKey, 'team', MAX, MAX]], fo: k === outsider ? [[spaceKey, 'team', 'syncing', MAX, MAX, 0, MAX, MAX]] : [],
      io: [0, 0, 0, 0], mb: [], al: [] }
    const record = signStatus(k, { space: depBytes, author: k.publicKey, clock: { wallMs: Date.now(), counter: 0 }, body })
    return encodeMessage({ m: 'status', space: depBytes, record: [record.bytes, record.sig] })
  }
  hostile = await createHostilePeer()
  const conn = await hostile.dial(multiaddr(a.addrs[0] as string))
  const lp = lpStream(await conn.newStream(SYNC_PROTOCOL))
  await lp.write(claim(outsider, 'outsider'))
  await lp.write(claim(member, 'member'))
  const ids = [outsider, member].map(k => peerIdOf(k.publicKey))
  const map = await eventually('A holds both claimants up', () => ok(a.dir, 'net') as any,
    m => ids.every(id => m.nodes.some((n: any) => n.peerId === id && n.up)))
  const reportOf = (k: KeyPair): any => map.nodes.find((n: any) => n.peerId === peerIdOf(k.publicKey)).report
  assert.deepEqual([reportOf(outsider).spaces, reportOf(outsider).folders], [[], []],
    'the daemon leaves out the claims of a reporter the space\'s ACL does not list')
  assert.equal(reportOf(member).spaces[0]?.entries, MAX, 'a member\'s claim is kept: it is about itself')

  const local = (ok(a.dir, 'space', 'list') as { name: string, members: number }[]).find(s => s.name === 'team')
  assert.equal(local?.members, 2)
  await page.goto(ok(a.dir, 'dashboard').url as string)
  const shown = await eventually('the Spaces table shows team with its two holders', async () => await page.evaluate(() => {
    const d = (globalThis as any).document
    const tr = [...d.querySelectorAll('[data-testid="folders"] table tr')].find((r: any) => r.cells?.[0]?.textContent === 'team') as any
    const row = tr === undefined ? null : [...tr.cells].map((c: any) => (c.textContent as string).replace(/\s+/g, ' ').trim())
    return { row, folders: d.querySelector('[data-testid="folders"]')?.textContent as string }
  }), v => v.row !== null && v.row[1] === 'owner' && /of 2 nodes/.test(v.row[4] ?? ''))
  const row = shown.row as string[]
  // row: [space, role here, members, entries, in step]
  assert.equal(row[2], '2', 'members: A\'s own ACL')
  const own = Number(row[3])
  assert.ok(own >= ownRow.entries && own < 20, `entries: A's own count, not the claim (${row[3]})`)
  assert.match(row[4] ?? '', /^1 of 2 nodes · 1 claim more$/, 'A is in step; the member\'s claim is shown as a claim')
  assert.doesNotMatch(shown.folders, /Folders/, 'no folder block from the outsider\'s claim (A shares no folder)')
})
