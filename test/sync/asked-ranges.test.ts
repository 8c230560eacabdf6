/**
 * The asks the node remembers (asked.ts) are bounded in all; which are forgotten when the bound is met decides whose
 * honest late answers are charged as replays. Only our own wants are asks, so a peer holds as many as we asked of it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { authorKeyOf } from '../../src/ids/index.ts'
import type { AuthorKey } from '../../src/ids/index.ts'
import { SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { AskedRanges } from '../../src/sync/asked.ts'
import { ASKED_MAX } from '../../src/sync/index.ts'
import { feedKey } from '../../src/sync/keys.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'

test('peers we asked much of fill the asks: the few asked of another peer are not the ones forgotten', () => {
  const owner = seededKey('asked-1', 'owner')
  const space = SpaceReplica.create(new MemoryStore(), owner, 'n', T0).key
  const key = (n: string): AuthorKey => authorKeyOf(seededKey('asked-1', n).publicKey)
  const honest = key('honest')
  const hostile = [key('h1'), key('h2'), key('h3')]
  const first = hostile[0] as AuthorKey
  const asked = new AskedRanges()
  const fk = feedKey(authorKeyOf(owner.publicKey), 0)
  // The honest peer's ask is the oldest; three members then draw ASKED_MAX asks between them (one-entry pulls of
  // made-up feeds, answered slowly), past the bound.
  asked.add(honest, space, fk, 0, 10)
  const each = Math.ceil(ASKED_MAX / hostile.length) + 10
  for (let i = 0; i < each; i++) {
    for (const peer of hostile) asked.add(peer, space, feedKey(peer, i), 0, 1)
  }
  // The forgotten ones are the oldest of those holding the most.
  assert.equal(asked.take(first, space, feedKey(first, 0), 0, 1, 100), false)
  assert.equal(asked.take(first, space, feedKey(first, each - 1), 0, 1, 100), true)
  assert.equal(asked.take(honest, space, fk, 0, 10, 100), true, 'the honest peer\'s answer is still asked for')
})
