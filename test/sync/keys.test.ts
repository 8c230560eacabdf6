import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { parseAuthorKey } from '../../src/ids/index.ts'
import { asFeedKey, feedKey, parseFeedKey, TupleMap } from '../../src/sync/keys.ts'

describe('typed keys', () => {
  test('a feed key reads back to its author and epoch', () => {
    const author = parseAuthorKey('ab'.repeat(32))
    const fk = feedKey(author, 3)
    assert.deepEqual(parseFeedKey(fk), { author: 'ab'.repeat(32), epoch: 3 })
    assert.equal(asFeedKey(`${'ab'.repeat(32)}/3`), fk)
  })

  test('a tuple map keeps the order of insertion over all keys, as a Map does', () => {
    const m = new TupleMap<[string, string, number], string>()
    m.set(['p', 's1', 1], 'a').set(['q', 's1', 1], 'b').set(['p', 's2', 2], 'c').set(['p', 's1', 1], 'a2')
    assert.deepEqual([...m.entries()], [[['p', 's1', 1], 'a2'], [['q', 's1', 1], 'b'], [['p', 's2', 2], 'c']])
    assert.deepEqual(m.first(), ['p', 's1', 1])
    assert.equal(m.size, 3)
    assert.equal(m.get(['p', 's2', 2]), 'c')
    assert.equal(m.get(['p', 's2', 3]), undefined)
    assert.equal(m.has(['p', 's1'] as unknown as [string, string, number]), false, 'a prefix is no key')
  })

  test('delete prunes empty levels; deleteUnder drops every key under a first part', () => {
    const m = new TupleMap<[string, string], number>()
    m.set(['p', 'a'], 1).set(['p', 'b'], 2).set(['q', 'a'], 3)
    assert.equal(m.delete(['p', 'a']), true)
    assert.equal(m.delete(['p', 'a']), false)
    m.deleteUnder('p')
    assert.deepEqual([...m.entries()], [[['q', 'a'], 3]])
    m.delete(['q', 'a'])
    assert.equal(m.size, 0)
    assert.equal(m.first(), undefined)
    m.set(['p', 'a'], 4)
    assert.deepEqual([...m.values()], [4], 'a key deleted and set again is new')
  })
})
