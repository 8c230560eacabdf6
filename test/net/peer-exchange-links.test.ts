import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MESH_LINKS_MAX, MESH_LINKS_PER_SPACE, MeshLinks } from '../../src/net/peer-exchange-links.ts'
import type { MeshCandidate } from '../../src/net/peer-exchange-links.ts'

/** Which members peer exchange introduces, on plain data: bounded per space and in all, the same on every node. */
const member = (n: number, spaces: string[], folderSpaces: string[] = [], heardMs = 0): MeshCandidate =>
  ({ peerId: `peer-${String(n).padStart(3, '0')}`, spaces, folderSpaces, heardMs })

test('at most 8 new links per space and 32 in all, each charged to one space', () => {
  assert.equal(MESH_LINKS_PER_SPACE, 8)
  assert.equal(MESH_LINKS_MAX, 32)
  const links = new MeshLinks()
  const inS = Array.from({ length: 20 }, (_, i) => member(i, ['s']))
  assert.equal(links.choose(inS).length, 8)
  assert.deepEqual(links.choose([member(99, ['s'])]), [], 'the space is full')
  // A member sharing a full space and another is charged to the other.
  assert.deepEqual(links.choose([member(98, ['s', 't'])]), ['peer-098'])
  const many = Array.from({ length: 60 }, (_, i) => member(100 + i, [`space-${i % 10}`]))
  assert.equal(links.choose(many).length, 32 - 9)
  assert.equal(links.size, 32)
  assert.ok(links.full())
  assert.deepEqual(links.choose([member(500, ['fresh'])]), [], 'no more in all')
})

test('a shared folder first, then the most recently heard, then the smaller peer id', () => {
  const links = new MeshLinks({ perSpace: 2, max: 32 })
  const chosen = links.choose([
    member(1, ['s'], [], 10), member(2, ['s'], [], 30), member(3, ['s'], ['s'], 5), member(4, ['s'], [], 30)
  ])
  assert.deepEqual(chosen, ['peer-003', 'peer-002'])
})

test('the same members in any order are chosen alike, and a chosen one keeps its place', () => {
  const given = Array.from({ length: 12 }, (_, i) => member(i, ['s'], [], i % 3))
  const a = new MeshLinks().choose(given)
  const b = new MeshLinks().choose([...given].reverse())
  assert.deepEqual(a, b)
  const links = new MeshLinks({ perSpace: 1, max: 1 })
  assert.deepEqual(links.choose([member(1, ['s'], [], 1)]), ['peer-001'])
  assert.deepEqual(links.choose([member(2, ['s'], ['s'], 9)]), [], 'not pushed out by a better one heard later')
  assert.ok(links.has('peer-001'))
})
