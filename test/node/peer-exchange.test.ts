import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair, peerIdOf } from '../../src/identity/index.ts'
import { authorKeyOf } from '../../src/ids/index.ts'
import { PeerExchange } from '../../src/node/peer-exchange.ts'

/**
 * Whose claimed addresses a node takes: only a member it keeps reaching (reached before), never its own,
 * never a stranger's; what the rule refuses never reaches the network.
 */
test('a member\'s addresses go to the network only for a peer this node keeps reaching', () => {
  const [self, known, other] = [generateKeyPair(), generateKeyPair(), generateKeyPair()]
  const selfId = peerIdOf(self.publicKey)
  const knownId = peerIdOf(known.publicKey)
  const learned: [string, readonly string[], boolean][] = []
  const pex = new PeerExchange({
    self: selfId,
    addrs: () => [`/ip4/10.0.0.1/tcp/4815/p2p/${selfId}`],
    keepsReaching: peerId => peerId === knownId,
    learnAddrs: (peerId, addrs, hurry) => { learned.push([peerId, addrs, hurry]) }
  })
  pex.heard(authorKeyOf(known.publicKey), ['/ip4/10.0.0.2/tcp/4817', '/ip4/127.0.0.1/tcp/4817', 'junk'], false)
  pex.heard(authorKeyOf(known.publicKey), ['/ip4/10.0.0.2/tcp/4818'], true)
  pex.heard(authorKeyOf(known.publicKey), ['/ip4/0.0.0.0/tcp/4817'], false)
  pex.heard(authorKeyOf(other.publicKey), ['/ip4/10.0.0.3/tcp/4817'], false)
  pex.heard(authorKeyOf(self.publicKey), ['/ip4/10.0.0.9/tcp/4817'], false)
  assert.deepEqual(learned, [
    [knownId, [`/ip4/10.0.0.2/tcp/4817/p2p/${knownId}`], true],
    [knownId, [`/ip4/10.0.0.2/tcp/4818/p2p/${knownId}`], false]
  ])
})
