import { test } from 'node:test'
import assert from 'node:assert/strict'
import { plainPath } from '../../src/api/request.ts'

/**
 * The server skips parsing a URL for a plain path (api/request.ts): that is
 * right only if the path is exactly what the URL parser would make of it,
 * with no query. Every target here is held to `new URL`'s reading.
 */
const TARGETS = [
  '/', '/v1/spaces/abc/kv/key-1', '/v1/spaces/abc/kv/a:b@c!$&\'()*+,;=~', '/v1/spaces//kv/x', '/v1/x/',
  '//host/v1/id', '///v1/id', '/v1/./id', '/v1/../v1/id', '/v1/id/.', '/v1/id/..', '/.', '/..', '/v1/.hidden',
  '/v1/..x', '/v1/id?token=abc', '/v1/id#frag', '/v1/a%20b', '/v1/a%2e%2e/b', '/v1/a b', '/v1/a\\b', '/v1/ä',
  '/v1/a"b', '/v1/a<b>', '/v1/a`b', '/v1/a{b}', '/v1/a|b', '/v1/a^b', '/v1/a\tb', 'v1/id', '*', ''
]

test('a target taken as a plain path is its own pathname, with no query, as the URL parser reads it', () => {
  let plain = 0
  for (const target of TARGETS) {
    const path = plainPath(target)
    if (path === undefined) continue
    plain++
    const url = new URL(target, 'http://localhost')
    assert.equal(path, url.pathname, `pathname of ${JSON.stringify(target)}`)
    assert.equal(url.search, '', `query of ${JSON.stringify(target)}`)
    assert.equal(url.host, 'localhost', `host of ${JSON.stringify(target)}`)
  }
  assert.ok(plain >= 6, 'the common paths are taken as plain')
  assert.equal(plainPath('/v1/spaces/abc/kv/key-1'), '/v1/spaces/abc/kv/key-1')
  assert.equal(plainPath('//host/v1/id'), undefined)
  assert.equal(plainPath('/v1/../v1/id'), undefined)
  assert.equal(plainPath(undefined), undefined)
})
