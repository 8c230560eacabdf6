/**
 * What serving a botched stretch of a feed costs in signature checks (space/serving.ts): an author's botched
 * signatures, inside a run a later one covers, are stored as they came; a serve that meets them at a range's end
 * checks up to 16, and each once.
 */
import { signatureChecks } from '../helpers/signature-checks.ts'
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'

const OWNER = seededKey('serve-checks', 'owner')

test('a botched signature a serve checked is not checked again, however many ranges end at it', () => {
  const origin = SpaceReplica.create(new MemoryStore(), OWNER, 'serve-checks', T0)
  for (let i = 0; i < 40; i++) origin.append(OWNER, { t: 'kv.put', key: `k${i}`, value: `v${i}` }, T0 + 1 + i)
  const author = authorKeyOf(OWNER.publicKey)
  const epoch = (origin.vector().find(r => authorKeyOf(r.author) === author) as { epoch: number }).epoch
  const all = origin.serve(author, epoch, 0, 40)
  // Every signature botched but the last, which covers them all.
  const sent = all.map(([bytes, sig], i): [Uint8Array, Uint8Array] => {
    if (i === all.length - 1) return [bytes, sig]
    const g = new Uint8Array(sig)
    g[0] = (g[0] as number) ^ 1
    return [bytes, g]
  })
  const r = SpaceReplica.adopt(new MemoryStore(), [origin.genesis.bytes, origin.genesis.sig])
  assert.ok(r instanceof SpaceReplica)
  assert.equal(r.ingestRun(sent, 'relay', T0 + 1000).reject, undefined)
  const before = signatureChecks.count
  assert.deepEqual(r.serve(author, epoch, 1, 17), [])
  assert.equal(signatureChecks.count - before, 16, 'the first serve checks 16')
  for (let i = 0; i < 1_000; i++) assert.deepEqual(r.serve(author, epoch, 1, 17), [])
  for (let k = 2; k < 24; k++) r.serve(author, epoch, k, k + 16)
  assert.equal(signatureChecks.count - before, 38, 'each botched signature is checked once: 38 of them')
  // A valid copy brought later replaces the botched one, and is served.
  assert.equal(r.ingestRun([all[20] as [Uint8Array, Uint8Array]], 'author', T0 + 1000).duplicates, 1)
  assert.deepEqual(r.serve(author, epoch, 1, 21), sent.slice(1, 20).concat([all[20] as [Uint8Array, Uint8Array]]))
})
