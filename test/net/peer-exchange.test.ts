import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair, peerIdOf } from '../../src/identity/index.ts'
import { advertisedAddrs, dialableAddrs, PEX_ADDR_CHARS_MAX, PEX_ADDRS_MAX } from '../../src/net/peer-exchange.ts'
import { REPORT_LIMITS } from '../../src/telemetry/index.ts'

/**
 * Peer exchange's address rule on plain data: what a node publishes of its
 * own addresses, and which of a member's claimed addresses another node dials.
 */
const peer = (): string => peerIdOf(generateKeyPair().publicKey)
const author = peer()
const reader = peer()
const relay = peer()
const onLan = [`/ip4/10.0.0.2/tcp/4815/p2p/${reader}`, `/ip4/127.0.0.1/tcp/4815/p2p/${reader}`]
const onLoopbackOnly = [`/ip4/127.0.0.1/tcp/40001/p2p/${reader}`]
const dial = (claimed: readonly unknown[], own = onLan): string[] => dialableAddrs(author, claimed, own, reader)

test('the wire bounds and the rule agree: as many addresses, as long', () => {
  assert.equal(PEX_ADDRS_MAX, REPORT_LIMITS.addrs)
  assert.equal(PEX_ADDR_CHARS_MAX, REPORT_LIMITS.addrChars)
})

test('a member\'s TCP addresses are dialled with its peer id, so another key is refused', () => {
  assert.deepEqual(dial(['/ip4/10.0.0.7/tcp/4817', '/ip6/fd00::7/tcp/4815']),
    [`/ip4/10.0.0.7/tcp/4817/p2p/${author}`, `/ip6/fd00::7/tcp/4815/p2p/${author}`])
  assert.deepEqual(dial([`/ip4/10.0.0.9/tcp/1/p2p/${relay}/p2p-circuit`]),
    [`/ip4/10.0.0.9/tcp/1/p2p/${relay}/p2p-circuit/p2p/${author}`], 'one hop through a relay')
})

test('refused: not a multiaddr, not TCP over an IP, extra parts, port 0, hosts no one can be dialled at', () => {
  const refused = [
    7, null, '', 'not an address', '/ip4/1.2.3/tcp/1', '/ip4/1.2.3.4/tcp/70000', '/ip4/1.2.3.4/tcp/0',
    '/ip4/1.2.3.4/udp/1', '/ip4/1.2.3.4', '/dns4/example.com/tcp/1', '/unix/tmp/sock',
    `/ip4/1.2.3.4/tcp/1/p2p/${author}`, // its own id is added by the reader, never taken from the claim
    '/ip4/1.2.3.4/tcp/1/tls', '/ip4/1.2.3.4/tcp/1/ws',
    '/ip4/0.0.0.0/tcp/1', '/ip6/::/tcp/1', '/ip4/224.0.0.251/tcp/1', '/ip4/255.255.255.255/tcp/1', '/ip6/ff02::1/tcp/1',
    '/ip6/fe80::1/tcp/1', '/ip6/::ffff:10.0.0.7/tcp/1',
    `/ip4/1.2.3.4/tcp/1${'/'.repeat(PEX_ADDR_CHARS_MAX)}`, `/ip4/1.2.3.4/tcp/1/p2p/${relay}`.padEnd(PEX_ADDR_CHARS_MAX + 1, 'x')
  ]
  for (const claimed of refused) assert.deepEqual(dial([claimed]), [], String(claimed))
})

test('relay hops: one only, and never through the author itself or the reader (no loops)', () => {
  const other = peer()
  for (const claimed of [
    `/ip4/10.0.0.9/tcp/1/p2p/${author}/p2p-circuit`,
    `/ip4/10.0.0.9/tcp/1/p2p/${reader}/p2p-circuit`,
    `/ip4/10.0.0.9/tcp/1/p2p/${relay}/p2p-circuit/p2p/${other}/p2p-circuit`,
    `/ip4/10.0.0.9/tcp/1/p2p-circuit`
  ]) assert.deepEqual(dial([claimed]), [], claimed)
})

test('loopback means the author\'s machine: dialled only by a node that itself listens on loopback alone', () => {
  assert.deepEqual(dial(['/ip4/127.0.0.1/tcp/4815', '/ip6/::1/tcp/4815']), [], 'on a LAN it would be our own machine')
  assert.deepEqual(dial(['/ip4/127.0.0.1/tcp/4815'], onLoopbackOnly), [`/ip4/127.0.0.1/tcp/4815/p2p/${author}`])
  assert.deepEqual(dial(['/ip4/127.0.0.1/tcp/4815'], []), [], 'not listening yet: no loopback either')
})

test('at most PEX_ADDRS_MAX, in the order given, each once', () => {
  const many = Array.from({ length: 1000 }, (_, i) => `/ip4/10.1.${i >> 8}.${i & 255}/tcp/4815`)
  const taken = dial(['/ip4/10.9.9.9/tcp/1', '/ip4/10.9.9.9/tcp/1', 'junk', ...many])
  assert.equal(taken.length, PEX_ADDRS_MAX)
  assert.equal(taken[0], `/ip4/10.9.9.9/tcp/1/p2p/${author}`)
  assert.equal(taken[1], `/ip4/10.1.0.0/tcp/4815/p2p/${author}`)
})

test('a node publishes its addresses without its id, loopback only when it has nothing else', () => {
  const self = author
  const anyRelay = (): boolean => true
  const listening = [
    `/ip4/10.0.0.7/tcp/4815/p2p/${self}`, `/ip4/127.0.0.1/tcp/4815/p2p/${self}`, `/ip6/::1/tcp/4815/p2p/${self}`,
    `/ip6/fd00::7/tcp/4815/p2p/${self}`, `/ip6/fe80::7/tcp/4815/p2p/${self}`
  ]
  assert.deepEqual(advertisedAddrs(listening, self, anyRelay), ['/ip4/10.0.0.7/tcp/4815', '/ip6/fd00::7/tcp/4815'])
  const loopbackOnly = [`/ip4/127.0.0.1/tcp/40001/p2p/${self}`]
  assert.deepEqual(advertisedAddrs(loopbackOnly, self, anyRelay), ['/ip4/127.0.0.1/tcp/40001'])
  assert.deepEqual(advertisedAddrs([], self, anyRelay), [])
  // What an honest node publishes, another node takes (on a LAN, and on one host).
  const published = advertisedAddrs(listening, self, anyRelay)
  assert.deepEqual(dialableAddrs(self, published, onLan, reader), published.map(a => `${a}/p2p/${self}`))
  const local = advertisedAddrs(loopbackOnly, self, anyRelay)
  assert.deepEqual(dialableAddrs(self, local, onLoopbackOnly, reader), [`/ip4/127.0.0.1/tcp/40001/p2p/${self}`])
})

test('a node publishes a relayed address only through a relay it accepts (a member): a stranger named none', () => {
  const self = author
  const via = (r: string): string => `/ip4/10.0.0.9/tcp/1/p2p/${r}/p2p-circuit`
  const listening = [`/ip4/10.0.0.7/tcp/4815/p2p/${self}`, `${via(relay)}/p2p/${self}`, `${via(reader)}/p2p/${self}`]
  assert.deepEqual(advertisedAddrs(listening, self, r => r === relay), ['/ip4/10.0.0.7/tcp/4815', via(relay)])
})

test('a relayed address is dialled only through a relay the reader accepts (a member)', () => {
  const via = `/ip4/10.0.0.9/tcp/1/p2p/${relay}/p2p-circuit`
  assert.deepEqual(dialableAddrs(author, [via, '/ip4/10.0.0.7/tcp/1'], onLan, reader, r => r !== relay),
    [`/ip4/10.0.0.7/tcp/1/p2p/${author}`])
  assert.deepEqual(dialableAddrs(author, [via], onLan, reader, r => r === relay), [`${via}/p2p/${author}`])
})
