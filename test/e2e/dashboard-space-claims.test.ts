import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { keyPairFromSeed, peerIdOf } from '../../src/identity/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { eventually, ok } from './harness.ts'
import { forgedStatusBench } from './forged-status.ts'
import type { ForgedStatusBench } from './forged-status.ts'

/**
 * A status record describes its author only. Two members of the deployment claim 2^53 − 1 entries and 2^53 − 1
 * members of the space `team`, which A holds in full: `outsider` is no member of `team` (a reader of the status
 * space only), `member` is a reader of `team`. A's daemon leaves the outsider's claims (its space and its folder)
 * out of /v1/net; the page takes the members from A's own ACL, measures "in step" against A's own entry count, and
 * shows the member's claim as a claim of more, not A as behind.
 */
const MAX = Number.MAX_SAFE_INTEGER
const outsider = keyPairFromSeed(new Uint8Array(32).fill(77))
const member = keyPairFromSeed(new Uint8Array(32).fill(79))
let bench: ForgedStatusBench

before(async () => {
  bench = await forgedStatusBench([outsider, member], a => {
    for (let i = 0; i < 3; i++) ok(a.dir, 'kv', 'put', 'team', `k${i}`, 'v')
    ok(a.dir, 'acl', 'grant', 'team', peerIdOf(member.publicKey), 'reader')
  })
})
after(async () => { await bench?.close() })

test('claims about a space are counted only from its members, and never demote the node holding every entry', { timeout: 300_000 }, async () => {
  const { a, page } = bench
  const mine = await eventually('A reports the space', () => ok(a.dir, 'net') as any,
    m => (m.nodes.find((n: any) => n.self)?.report?.spaces ?? []).some((s: any) => s.name === 'team'))
  const ownRow = mine.nodes.find((n: any) => n.self).report.spaces.find((s: any) => s.name === 'team')
  const spaceKey = ownRow.id as string // as A's own report names it
  const claim = (k: KeyPair, name: string): { author: KeyPair, body: Record<string, unknown> } => ({
    author: k,
    body: { v: 1, n: name, ver: '1', st: Date.now(), p: 3_600_000, ld: [0, 0, 0], cpu: 1, mem: [1, 1, 1], dk: null, t: null,
      ln: [], sp: [[spaceKey, 'team', MAX, MAX]], fo: k === outsider ? [[spaceKey, 'team', 'syncing', MAX, MAX, 0, MAX, MAX]] : [],
      io: [0, 0, 0, 0], mb: [], al: [] }
  })
  await bench.send([claim(outsider, 'outsider'), claim(member, 'member')])
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
