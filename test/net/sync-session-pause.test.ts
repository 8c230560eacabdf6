import { test } from 'node:test'
import assert from 'node:assert/strict'
import { streamPair } from '@libp2p/utils'
import type { Connection } from '@libp2p/interface'
import { SyncSession } from '../../src/net/sync-session.ts'

/**
 * A session whose frame handler hands back a promise reads no further frame
 * until it settles, with its stream paused (the muxer then stops granting
 * the sender window), and reads on in order once it did (durable-gate.ts
 * asks this while a slow sync holds what a peer sent).
 */
/** A connection as a session sees it: one it closes as it ends (SyncSession.close). */
const link = { close: async () => {} } as unknown as Connection

test('a frame handler\'s promise pauses the stream until it settles; the frames after it come in order', async () => {
  const [ours, theirs] = await streamPair()
  const seen: number[] = []
  let settle: () => void = () => {}
  const room = new Promise<void>(resolve => { settle = resolve })
  let firstSeen: () => void = () => {}
  const first = new Promise<void>(resolve => { firstSeen = resolve })
  const session = new SyncSession(ours, link, {
    onFrame: bytes => {
      seen.push(bytes[0] ?? -1)
      if (seen.length !== 1) return undefined
      firstSeen()
      return room
    },
    onBadFrame: reason => { assert.fail(reason) },
    onClose: () => {}
  })
  const done = session.run()
  const sender = new SyncSession(theirs, link, {
    onFrame: () => undefined, onBadFrame: () => {}, onClose: () => {}
  })
  void sender.run()
  for (let i = 1; i <= 4; i++) sender.send(new Uint8Array([i, 0, 0]))
  await first
  // Everything the sender wrote has had every chance to arrive (several turns of the loop and the pair's delay).
  for (let i = 0; i < 20; i++) await new Promise(resolve => setTimeout(resolve, 5))
  assert.deepEqual(seen, [1], 'no frame is read while the handler\'s promise is pending')
  assert.equal(ours.readStatus, 'paused')
  settle()
  while (seen.length < 4) await new Promise(resolve => setTimeout(resolve, 5))
  assert.deepEqual(seen, [1, 2, 3, 4])
  assert.equal(ours.readStatus, 'readable')
  session.close()
  sender.close()
  await done
})

/**
 * Frames already buffered are read as microtasks: a peer far ahead of a busy node had every one of them handled before
 * any other socket or timer got a turn (a review's status flood stalled a node's event loop for seconds). The session
 * lets the loop turn every few frames.
 */
test('a backlog of buffered frames lets the event loop turn every few frames', async () => {
  const [ours, theirs] = await streamPair()
  let seen = 0
  let seenWhenLoopTurned = -1
  let release: () => void = () => {}
  const held = new Promise<void>(resolve => { release = resolve })
  const session = new SyncSession(ours, link, {
    onFrame: () => {
      if (seen++ === 0) setImmediate(() => { seenWhenLoopTurned = seen })
      return undefined
    },
    onBadFrame: reason => { assert.fail(reason) },
    onClose: () => {}
  })
  session.holdReadingUntil(held)
  const done = session.run()
  const sender = new SyncSession(theirs, link, {
    onFrame: () => undefined, onBadFrame: () => {}, onClose: () => {}
  })
  void sender.run()
  for (let i = 0; i < 500; i++) sender.send(new Uint8Array([1, 2, 3]))
  // Everything the sender wrote has had every chance to arrive and wait, unread, in the session's buffer.
  for (let i = 0; i < 20; i++) await new Promise(resolve => setTimeout(resolve, 5))
  release()
  while (seen < 500) await new Promise(resolve => setTimeout(resolve, 5))
  assert.ok(seenWhenLoopTurned > 0 && seenWhenLoopTurned <= 32, `the loop turned after ${seenWhenLoopTurned} frames`)
  session.close()
  sender.close()
  await done
})
