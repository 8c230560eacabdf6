/**
 * The restore notice (own-feed.ts) names the space; `samepage start` prints it on stderr and the event stream carries
 * it, so the name a peer chose (its genesis) must come without control characters.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Entry } from '../../src/codec/index.ts'
import { toHex } from '../../src/codec/index.ts'
import type { SpaceKey } from '../../src/ids/index.ts'
import { OwnFeedWatch } from '../../src/node/own-feed.ts'
import { seededKey } from '../helpers/fixtures.ts'

const ME = seededKey('own-feed-notice', 'me').publicKey

test('the restore notice shows a peer-chosen space name without its terminal escapes', () => {
  const watch = new OwnFeedWatch(toHex(ME))
  const ours = { author: new Uint8Array(ME), epoch: 1, body: { t: 'kv.put' } } as unknown as Entry
  const evil = 'team\x1b]0;pwned\x07\x1b[2J\x1b[31mFAKE LINE\ninjected'
  const notice = watch.stored('a'.repeat(64) as SpaceKey, evil, [ours], '12D3KooWpeer') ?? ''
  assert.match(notice, /^space team\uFFFD\]0;pwned\uFFFD\uFFFD\[2J\uFFFD\[31mFAKE LINE\uFFFDinjected: peer 12D3KooWpeer holds/)
  assert.doesNotMatch(notice, /[\u0000-\u001f\u007f-\u009f]/)
})
