/**
 * Fork proofs of feeds no grant covers yet, kept for a later ACL change
 * (decision 17): bounded per peer in count and bytes, over all spaces, and
 * over all peers, and freed as they are taken.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { SignedBytes } from '../../src/codec/index.ts'
import type { AuthorKey, SpaceKey } from '../../src/ids/index.ts'
import { Session } from '../../src/sync/session.ts'

const proof = (bytes: number): SignedBytes => [new Uint8Array(bytes), new Uint8Array(64)]
const size = (bytes: number): number => 2 * (bytes + 64)
const [one, two] = ['space-one', 'space-two'] as [SpaceKey, SpaceKey]

test('kept fork proofs: 16 per peer, 512 KiB per peer over all spaces, 8 MiB over all peers; taking frees them', () => {
  const session = new Session('peer' as AuthorKey, 0, 0)
  for (let i = 0; i < 20; i++) session.keepUngrantedFork(i % 2 === 0 ? one : two, proof(100), proof(100), 0)
  assert.equal(session.ungrantedForkBytes, 16 * size(100), 'the first 16 only')
  assert.equal(session.takeUngrantedForks(one).length, 8)
  assert.equal(session.ungrantedForkBytes, 8 * size(100), 'what was taken is freed')
  assert.equal(session.takeUngrantedForks(one).length, 0, 'taken once')

  const big = new Session('big' as AuthorKey, 1, 0)
  for (let i = 0; i < 10; i++) big.keepUngrantedFork(one, proof(60_000), proof(60_000), 0)
  assert.equal(big.ungrantedForkBytes, 4 * size(60_000), 'at most 512 KiB for one peer')

  const late = new Session('late' as AuthorKey, 2, 0)
  late.keepUngrantedFork(one, proof(100), proof(100), 8 * 1024 * 1024 - size(100) + 1)
  assert.equal(late.ungrantedForkBytes, 0, 'nothing past 8 MiB over all peers')
  late.keepUngrantedFork(one, proof(100), proof(100), 8 * 1024 * 1024 - size(100))
  assert.equal(late.ungrantedForkBytes, size(100))
})
