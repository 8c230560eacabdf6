import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import type { Relay } from '../../src/sync/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { FloodRelay } from '../../bench/flood-relay.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'
import { Wire } from './wire.ts'

/** Three members in a triangle, each engine with the relay `make` gives it; the owner writes one entry. */
function triangle (make: () => Relay | undefined): { wire: Wire, key: string, kv: (i: number) => unknown } {
  const keys: KeyPair[] = [seededKey('relay', 'o'), seededKey('relay', 'b'), seededKey('relay', 'c')]
  const store = new MemoryStore()
  const origin = SpaceReplica.create(store, keys[0]!, 'relay', T0)
  for (const k of keys.slice(1)) origin.append(keys[0]!, { t: 'acl.grant', member: k.publicKey, role: 'reader', from: { epoch: 0, seq: 0 } }, T0 + 1)
  const wire = new Wire(T0 + 10_000)
  const peers = keys.map((k, i) => wire.add(k, i === 0 ? store : store.clone(), make()))
  const [a, b, c] = peers as [typeof peers[0], typeof peers[0], typeof peers[0]]
  wire.connect(a, b)
  wire.connect(b, c)
  wire.connect(a, c)
  for (const p of peers) p.events.length = 0
  a.engine.append(origin.key, { t: 'kv.put', key: 'k', value: 1 }, wire.nowMs)
  wire.flush()
  return { wire, key: origin.key, kv: i => peers[i]!.replicas.get(origin.key)?.kvGet('k') }
}

describe('relay strategies', () => {
  test('announce (the default): heads announced, each receiver sent the entry once', () => {
    const { wire, kv } = triangle(() => undefined)
    assert.ok(kv(1) !== undefined && kv(2) !== undefined)
    assert.ok(wire.count('have') > 0)
    for (const p of [...wire.peers.values()].slice(1)) assert.equal(p.engine.stats.entriesIn, 1)
  })

  test('flooding (bench/flood-relay.ts, injected by the benchmark): entries pushed unasked, duplicates and all, and not charged', () => {
    const { wire, kv } = triangle(() => new FloodRelay())
    assert.ok(kv(1) !== undefined && kv(2) !== undefined)
    assert.equal(wire.count('have'), 0)
    assert.equal(wire.count('want'), 0)
    const copies = [...wire.peers.values()].slice(1).map(p => p.engine.stats.entriesIn)
    assert.deepEqual(copies, [2, 2], 'each receiver got it from the writer and again from the other receiver')
    for (const p of wire.peers.values()) assert.deepEqual(p.events.filter(e => e.type === 'misbehaviour'), [])
  })
})
