import { test } from 'node:test'
import assert from 'node:assert/strict'
import { streamPair } from '@libp2p/utils'
import type { Connection } from '@libp2p/interface'
import { SyncSession } from '../../src/net/sync-session.ts'

/**
 * Frames that arrived together are each handled in a turn of the event loop
 * of their own: what a frame's step left to the loop (the WAL sync's
 * completion that releases the sends the durable gate holds, such as a
 * late joiner's next `want`) runs before the next frame, not after every
 * frame already buffered. Read back to back through promises only, a
 * window's four runs were all stored before the want asked after the first
 * could leave, so the peer never served while we stored.
 */
test('work a frame left to the event loop runs before the next buffered frame is handled', async () => {
  const [ours, theirs] = await streamPair()
  const seen: string[] = []
  let all: () => void = () => {}
  const done4 = new Promise<void>(resolve => { all = resolve })
  const session = new SyncSession(ours, {} as unknown as Connection, {
    onFrame: bytes => {
      const n = bytes[0] ?? -1
      seen.push(`frame ${n}`)
      if (n === 1) setImmediate(() => { seen.push('loop work of frame 1') })
      if (n === 4) all()
      return undefined
    },
    onBadFrame: reason => { assert.fail(reason) },
    onClose: () => {}
  })
  // Four frames written in one go (the sender batches them), so they reach our reader together.
  const sender = new SyncSession(theirs, {} as unknown as Connection, {
    onFrame: () => undefined, onBadFrame: () => {}, onClose: () => {}
  })
  for (let i = 1; i <= 4; i++) sender.send(new Uint8Array([i, 0, 0]))
  const reading = session.run()
  void sender.run()
  await done4
  assert.deepEqual(seen, ['frame 1', 'loop work of frame 1', 'frame 2', 'frame 3', 'frame 4'])
  session.close()
  sender.close()
  await reading
})
