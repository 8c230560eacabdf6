/**
 * A server whose transport is behind for a moment (its backlog to a peer at
 * the serve budget) answers a want with nothing rather than `none`, so the
 * puller asks again once the want times out, and gets what it lacks. (A
 * `none` said the server did not hold the feed: the puller never asked it
 * again, and a node with one neighbour never caught up.) The same for a
 * status record, whose want is asked again of its one announcer, and for a
 * fork probe. (Found by hostile hunts for liveness gaps.)
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Entry } from '../../src/codec/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import type { AuthorKey, SpaceKey } from '../../src/ids/index.ts'
import { signEntry, SpaceReplica } from '../../src/space/index.ts'
import { MemoryStore } from '../../src/store/index.ts'
import { SERVE_QUEUE_BYTES_PER_PEER_MAX, SyncEngine } from '../../src/sync/index.ts'
import { seededKey, T0 } from '../helpers/fixtures.ts'

interface Node { readonly name: AuthorKey, readonly engine: SyncEngine, readonly replica: SpaceReplica }

function node (k: KeyPair, replica: SpaceReplica, backlog: (peer: AuthorKey) => number = () => 0): Node {
  const spaces = new Map<SpaceKey, SpaceReplica>([[replica.key, replica]])
  const engine = new SyncEngine({ keyPair: k, spaces: { get: key => spaces.get(key), all: () => spaces.values() }, backlog })
  return { name: authorKeyOf(k.publicKey), replica, engine }
}

/** Delivers between the nodes until neither has anything to send; returns the types sent, in order. */
function pump (nodes: readonly Node[], nowMs: number): string[] {
  const types: string[] = []
  for (let round = 0; round < 10_000; round++) {
    let sent = false
    for (const n of nodes) {
      for (const out of n.engine.drain()) {
        sent = true
        types.push(out.type)
        nodes.find(x => x.name === out.peer)?.engine.receive(n.name, out.bytes, nowMs)
      }
      n.engine.events()
    }
    if (!sent) return types
  }
  throw new Error('the nodes never went quiet')
}

describe('a busy server', () => {
  test('a want it has no room for is left unanswered, asked again, and served once it has room', () => {
    const [s, r] = ['server', 'reader'].map(n => seededKey('busy1', n)) as [KeyPair, KeyPair]
    const origin = SpaceReplica.create(new MemoryStore(), s, 'busy1', T0)
    origin.append(s, { t: 'acl.grant', member: r.publicKey, role: 'reader', from: { epoch: 0, seq: 0 } }, T0 + 1)
    for (let i = 0; i < 50; i++) origin.append(s, { t: 'kv.put', key: `k${i}`, value: i }, T0 + 10 + i)
    let backlog = SERVE_QUEUE_BYTES_PER_PEER_MAX - 100_000 // room for a `none`, not for a run of entries
    const S = node(s, origin, () => backlog)
    const R = node(r, SpaceReplica.adopt(new MemoryStore(), [origin.genesis.bytes, origin.genesis.sig]) as SpaceReplica)
    let now = T0 + 1000
    S.engine.connect(R.name, now)
    R.engine.connect(S.name, now)
    const first = pump([S, R], now)
    assert.ok(first.includes('want') && !first.includes('entries'), `nothing served while busy: ${first.join(' ')}`)
    assert.ok(!first.includes('none'), 'and nothing said to be missing')
    backlog = 0
    for (let t = 0; t < 10 && R.replica.kvGet('k49') === undefined; t++) {
      now += 1000
      S.engine.tick(now)
      R.engine.tick(now)
      pump([S, R], now)
    }
    assert.equal(R.replica.kvGet('k49')?.value, 49, 'the reader asked again once its want timed out, and got all')
  })

  test('a status record it had no room for is asked of it again, and comes once it has room', () => {
    const [s, r] = ['server', 'reader'].map(n => seededKey('busy2', n)) as [KeyPair, KeyPair]
    const origin = SpaceReplica.create(new MemoryStore(), s, 'busy2', T0)
    origin.append(s, { t: 'acl.grant', member: r.publicKey, role: 'reader', from: { epoch: 0, seq: 0 } }, T0 + 1)
    let backlog = 0
    const S = node(s, origin, () => backlog)
    const R = node(r, SpaceReplica.adopt(new MemoryStore(), [origin.genesis.bytes, origin.genesis.sig]) as SpaceReplica)
    let now = T0 + 1000
    S.engine.connect(R.name, now)
    R.engine.connect(S.name, now)
    pump([S, R], now)
    assert.equal(R.replica.acl.currentRole(R.name), 'reader')
    backlog = SERVE_QUEUE_BYTES_PER_PEER_MAX
    S.engine.publishStatus(origin.key, { online: true }, now)
    const busy = pump([S, R], now)
    assert.deepEqual(busy, ['status-have', 'status-want'], 'announced, asked, not served')
    backlog = 0
    // The last announcer is asked again after 4 s: the record is its author's last, nobody announces it anew.
    for (let t = 0; t < 10 && R.replica.status(S.name) === undefined; t++) {
      now += 1000
      S.engine.tick(now)
      R.engine.tick(now)
      pump([S, R], now)
    }
    assert.ok(R.replica.status(S.name) !== undefined, 'the reader holds the server\'s status record')
  })

  test('a fork probe it had no room for is asked of it again, and the fork is proven once it has room', () => {
    const [s, r, w] = ['server', 'reader', 'writer'].map(n => seededKey('busy3', n)) as [KeyPair, KeyPair, KeyPair]
    const origin = SpaceReplica.create(new MemoryStore(), s, 'busy3', T0)
    origin.append(s, { t: 'acl.grant', member: r.publicKey, role: 'reader', from: { epoch: 0, seq: 0 } }, T0 + 1)
    origin.append(s, { t: 'acl.grant', member: w.publicKey, role: 'writer', from: { epoch: 0, seq: 0 } }, T0 + 2)
    const base = origin.append(w, { t: 'kv.put', key: 'base', value: 1 }, T0 + 3)
    const [a, b] = (['a', 'b'] as const).map(name => signEntry(w, {
      space: origin.id, author: w.publicKey, epoch: base.epoch, seq: base.seq + 1, prev: base.id,
      clock: { wallMs: T0 + 4, counter: 0 }, body: { t: 'kv.put', key: name, value: name }
    })) as [Entry, Entry]
    // The reader holds what the server holds, but for writer's last entry: the other branch of a fork.
    const readerReplica = SpaceReplica.adopt(new MemoryStore(), [origin.genesis.bytes, origin.genesis.sig]) as SpaceReplica
    for (const row of origin.vector()) {
      readerReplica.ingestRun(origin.serve(authorKeyOf(row.author), row.epoch, 0, row.count), 'copy', T0 + 5)
    }
    origin.ingestRun([[a.bytes, a.sig]], 'w', T0 + 6)
    readerReplica.ingestRun([[b.bytes, b.sig]], 'w', T0 + 6)
    let backlog = SERVE_QUEUE_BYTES_PER_PEER_MAX // both busy: neither answers the other's probe
    const S = node(s, origin, () => backlog)
    const R = node(r, readerReplica, () => backlog)
    let now = T0 + 1000
    S.engine.connect(R.name, now)
    R.engine.connect(S.name, now)
    pump([S, R], now)
    assert.equal(origin.forkProofs().length + readerReplica.forkProofs().length, 0, 'not proven while both are busy')
    backlog = 0
    for (let t = 0; t < 10 && readerReplica.forkProofs().length === 0; t++) {
      now += 1000
      S.engine.tick(now)
      R.engine.tick(now)
      pump([S, R], now)
    }
    assert.equal(origin.forkProofs().length, 1, 'the server proved it')
    assert.equal(readerReplica.forkProofs().length, 1, 'and so did the reader')
  })
})
