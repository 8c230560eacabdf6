/**
 * What connections dialled to a node may hold of its slots (src/net/connection-guard.ts), on fake connections and
 * mocked timers. Found by a review: one stranger identity opened 300 connections (libp2p's `force` dials) and kept
 * them idle; libp2p's maxConnections filled and every inbound connection was refused, a joiner's with a valid token
 * too (the end-to-end case: test/node/stranger-connections.test.ts).
 */
import { test } from 'node:test'
import type { TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { Connection } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import {
  ConnectionGuard, HOST_STRANGER_CONNECTIONS_MAX, PEER_CONNECTIONS_MAX, STRANGER_CONNECTIONS_MAX, STRANGER_GRACE_MS
} from '../../src/net/connection-guard.ts'

interface Fake { readonly connection: Connection, readonly aborted: () => boolean }

/** A world of connections: members, joiners, and the guard over them. */
function world (t: TestContext): {
  guard: ConnectionGuard, members: Set<string>, joiners: Set<string>,
  open: (peer: string, host: string, direction?: 'inbound' | 'outbound', relayed?: boolean) => Fake
} {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  const members = new Set<string>()
  const joiners = new Set<string>()
  const live: Connection[] = []
  const guard = new ConnectionGuard({
    kept: peer => members.has(peer),
    joining: peer => joiners.has(peer.toString()),
    connectionsOf: c => live.filter(o => o.remotePeer.toString() === c.remotePeer.toString())
  })
  t.after(() => { guard.stop() })
  const open = (peer: string, host: string, direction: 'inbound' | 'outbound' = 'inbound', relayed = false): Fake => {
    let aborted = false
    const addr = relayed ? `/ip4/${host}/tcp/1/p2p/${RELAY}/p2p-circuit` : `/ip4/${host}/tcp/${live.length + 1000}`
    const connection = {
      remotePeer: { toString: () => peer },
      remoteAddr: multiaddr(addr),
      direction,
      get status () { return aborted ? 'closed' : 'open' },
      abort: () => {
        aborted = true
        live.splice(live.indexOf(connection), 1)
        guard.closed(connection)
      }
    } as unknown as Connection
    live.push(connection)
    guard.opened(connection)
    return { connection, aborted: () => aborted }
  }
  return { guard, members, joiners, open }
}

const RELAY = '12D3KooWRpeHAYdwDRiZfnKMvpzu9ZmjUqzs5bYMSgSQNpJiwyz6'

test('one peer keeps at most PEER_CONNECTIONS_MAX connections dialled to us, a member too', t => {
  const { members, open } = world(t)
  members.add('m')
  const links = Array.from({ length: PEER_CONNECTIONS_MAX + 5 }, (_, i) => open(i % 2 === 0 ? 'm' : 's', '10.0.0.1'))
  const held = (peer: string): number => links.filter((l, i) => (i % 2 === 0 ? 'm' : 's') === peer && !l.aborted()).length
  assert.equal(held('m'), PEER_CONNECTIONS_MAX)
  assert.equal(held('s'), PEER_CONNECTIONS_MAX)
  // The first ones stay (one of them carries the session); those past the bound go.
  assert.ok(links.slice(0, 2 * PEER_CONNECTIONS_MAX).every(l => !l.aborted()))
})

test('a stranger is closed after the grace; a member stays; a joiner under way stays while it is one', t => {
  const { members, joiners, open } = world(t)
  const stranger = open('s', '10.0.0.1')
  const becomesMember = open('m', '10.0.0.2')
  const joiner = open('j', '10.0.0.3')
  members.add('m')
  joiners.add('j')
  t.mock.timers.tick(STRANGER_GRACE_MS - 1)
  assert.equal(stranger.aborted(), false, 'within its grace a stranger may present a join')
  t.mock.timers.tick(1)
  assert.equal(stranger.aborted(), true)
  assert.equal(becomesMember.aborted(), false)
  assert.equal(joiner.aborted(), false)
  joiners.delete('j') // refused by the issuer, or its session ended
  t.mock.timers.tick(STRANGER_GRACE_MS)
  assert.equal(joiner.aborted(), true)
  assert.equal(becomesMember.aborted(), false)
})

test('connections we dialled are ours: never a stranger\'s to be closed', t => {
  const { open } = world(t)
  const ours = open('s', '10.0.0.1', 'outbound')
  t.mock.timers.tick(10 * STRANGER_GRACE_MS)
  assert.equal(ours.aborted(), false)
})

test('strangers from one host hold at most HOST_STRANGER_CONNECTIONS_MAX; the oldest goes, a joiner last', t => {
  const { joiners, members, open } = world(t)
  joiners.add('s0')
  const links = Array.from({ length: HOST_STRANGER_CONNECTIONS_MAX + 2 }, (_, i) => open(`s${i}`, '10.0.0.1'))
  assert.deepEqual(links.map(l => l.aborted()),
    links.map((_, i) => i === 1 || i === 2), 'the oldest two that are no joiners went')
  // Members behind the same host (one NAT) are not counted, nor are other hosts.
  members.add('m')
  assert.equal(open('m', '10.0.0.1').aborted(), false)
  assert.equal(open('other', '10.0.0.2').aborted(), false)
  assert.equal(links.filter(l => !l.aborted()).length, HOST_STRANGER_CONNECTIONS_MAX)
})

test('strangers hold at most STRANGER_CONNECTIONS_MAX in all: the rest of the slots are the members\'', t => {
  const { members, open } = world(t)
  const links = Array.from({ length: STRANGER_CONNECTIONS_MAX + 10 }, (_, i) => open(`s${i}`, `10.1.${i}.1`))
  assert.equal(links.filter(l => !l.aborted()).length, STRANGER_CONNECTIONS_MAX)
  assert.ok(links.slice(0, 10).every(l => l.aborted()), 'the oldest went')
  members.add('m')
  assert.equal(open('m', '10.2.0.1').aborted(), false)
  // A relayed connection has no host of its own (the relay's): it counts in all, not for the relay's host.
  assert.equal(open('r', '10.3.0.1', 'inbound', true).aborted(), false)
  assert.equal(links.filter(l => !l.aborted()).length, STRANGER_CONNECTIONS_MAX - 1)
})

test('past a bound the newest arrival stays: fresh joiners give way oldest first, one that waited a grace before them',
  t => {
    // A review's probe: 8 (fake) joiners held a host's slots, and every honest joiner from it was closed on arrival.
    const { joiners, open } = world(t)
    const flood = Array.from({ length: HOST_STRANGER_CONNECTIONS_MAX }, (_, i) => { joiners.add(`s${i}`); return open(`s${i}`, '10.0.0.1') })
    const honest = open('j', '10.0.0.1')
    assert.deepEqual([honest, ...flood].map(l => l.aborted()), [false, true, ...flood.slice(1).map(() => false)])
    joiners.add('j')
    t.mock.timers.tick(STRANGER_GRACE_MS) // all of them kept past their first grace as joiners
    const k = open('k', '10.0.0.1')
    assert.equal(k.aborted(), false)
    assert.equal(flood[1]?.aborted(), true, 'the oldest that waited a grace went')
  })
