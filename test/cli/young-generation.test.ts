import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { growYoungGenerationInBursts } from '../../src/cli/young-generation.ts'
import type { YoungGenerationControl } from '../../src/cli/young-generation.ts'

/**
 * The daemon lets V8's young generation grow only while it catches up on
 * peers' entries or takes many API writes at once, up to 16 MiB of new
 * space (src/cli/young-generation.ts): what it asks of V8, given the
 * batches it sees and the size V8 reports.
 */
describe('young generation grown in bursts', () => {
  type Events = EventEmitter<{ stored: [{ count: number, from: string }], grouped: [{ writes: number }] }>
  function setup (): { node: Events, flags: string[], newSpace: { bytes: number }, stop: () => void } {
    const node: Events = new EventEmitter()
    const flags: string[] = []
    const newSpace = { bytes: 1024 * 1024 }
    const heap: YoungGenerationControl = {
      setFlagsFromString: flag => { flags.push(flag) },
      getHeapSpaceStatistics: () => [{ space_name: 'old_space', space_size: 500e6 }, { space_name: 'new_space', space_size: newSpace.bytes }]
    }
    const stop = growYoungGenerationInBursts(node, heap)
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

  test('group commits of many API writes let it grow; small groups do not', () => {
    const { node, flags, newSpace, stop } = setup()
    node.emit('grouped', { writes: 1 })
    node.emit('grouped', { writes: 15 })
    assert.deepEqual(flags, [])
    node.emit('grouped', { writes: 16 })
    assert.deepEqual(flags, ['--semi-space-growth-factor=2'])
    newSpace.bytes = 16 * 1024 * 1024
    node.emit('grouped', { writes: 64 })
    assert.deepEqual(flags, ['--semi-space-growth-factor=2', '--semi-space-growth-factor=1'], 'held at 16 MiB')
    stop()
    node.emit('grouped', { writes: 64 })
    assert.equal(flags.length, 2, 'stopped: groups change nothing')
  })
})
