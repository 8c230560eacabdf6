import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { keepsHeld, SIMULTANEOUS_DIAL_MS } from '../../src/net/duplicate-session.ts'

/** Which of two links to one peer id stays (decision 11), decided alike at both ends. */
describe('duplicate sessions', () => {
  const [x, y] = ['12D3KooWA', '12D3KooWB'] // x < y

  test('a simultaneous dial: both ends keep the link dialled by the lower peer id, whichever came first', () => {
    const byX = { dialler: x, openedMs: 1000 }
    const byY = { dialler: y, openedMs: 1200 }
    // At x and at y, the links may be seen in either order: the one x dialled stays each time.
    assert.equal(keepsHeld(byX, byY), true)
    assert.equal(keepsHeld(byY, { ...byX, openedMs: 1200 }), false)
  })

  test('a link that comes later than a simultaneous dial replaces the one held, whoever dialled it', () => {
    const held = { dialler: x, openedMs: 1000 }
    assert.equal(keepsHeld(held, { dialler: y, openedMs: 1000 + SIMULTANEOUS_DIAL_MS + 1 }), false)
    assert.equal(keepsHeld(held, { dialler: x, openedMs: 1000 + SIMULTANEOUS_DIAL_MS + 1 }), false, 'the same dialler again')
    assert.equal(keepsHeld(held, { dialler: x, openedMs: 1000 + SIMULTANEOUS_DIAL_MS }), true)
  })
})
