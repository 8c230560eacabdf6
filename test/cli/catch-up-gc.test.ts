import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { growYoungGenerationInCatchUp } from '../../src/cli/catch-up-gc.ts'
import type { YoungGenerationControl } from '../../src/cli/catch-up-gc.ts'

/**
 * The daemon lets V8's young generation grow only while it catches up on
 * peers' entries, up to 16 MiB of new space (src/cli/catch-up-gc.ts): what
 * it asks of V8, given the batches it sees and the size V8 reports.
 */
describe('young generation grown in catch-up', () => {
  function setup (): { node: EventEmitter<{ stored: [{ count: number, from: string }] }>, flags: string[], newSpace: { bytes: number }, stop: () => void } {
    const node = new EventEmitter<{ stored: [{ count: number, from: string }] }>()
    const flags: string[] = []
    const newSpace = { bytes: 1024 * 1024 }
    const heap: YoungGenerationControl = {
      setFlagsFromString: flag => { flags.push(flag) },
      getHeapSpaceStatistics: () => [{ space_name: 'old_space', space_size: 500e6 }, { space_name: 'new_space', space_size: newSpace.bytes }]
    }
    const stop = growYoungGenerationInCatchUp(node, heap)
    return { node, flags, newSpace, stop }
  }

  test('live writes and our own batches leave it held; a big batch from a peer lets it grow, once', () => {
    const { node, flags, stop } = setup()
    node.emit('stored', { count: 1, from: 'peerA' })
    node.emit('stored', { count: 5000, from: 'local' })
    node.emit('stored', { count: 255, from: 'peerA' })
    assert.deepEqual(flags, [])
    node.emit('stored', { count: 256, from: 'peerA' })
    node.emit('stored', { count: 1024, from: 'peerB' })
    assert.deepEqual(flags, ['--semi-space-growth-factor=2'])
    stop()
    assert.deepEqual(flags, ['--semi-space-growth-factor=2', '--semi-space-growth-factor=1'], 'held again when stopped')
    node.emit('stored', { count: 1024, from: 'peerB' })
    assert.equal(flags.length, 2, 'stopped: batches change nothing')
  })

  test('growth stops at 16 MiB of new space, and goes on if V8 gave room back', () => {
    const { node, flags, newSpace, stop } = setup()
    node.emit('stored', { count: 1024, from: 'peerA' })
    newSpace.bytes = 16 * 1024 * 1024
    node.emit('stored', { count: 1024, from: 'peerA' })
    node.emit('stored', { count: 1024, from: 'peerA' })
    assert.deepEqual(flags, ['--semi-space-growth-factor=2', '--semi-space-growth-factor=1'])
    newSpace.bytes = 2 * 1024 * 1024
    node.emit('stored', { count: 1024, from: 'peerA' })
    assert.deepEqual(flags.at(-1), '--semi-space-growth-factor=2')
    stop()
    assert.deepEqual(flags.at(-1), '--semi-space-growth-factor=1')
  })
})
