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

test('a member never reached gets a new link only if it shares a data space, through a relay that is a member', async () => {
  const [self, mate, deploymentOnly, relay, strangerRelay] =
    [generateKeyPair(), generateKeyPair(), generateKeyPair(), generateKeyPair(), generateKeyPair()]
  const id = (k: typeof self): string => peerIdOf(k.publicKey)
  const selfId = id(self)
  const learned: [string, readonly string[], boolean][] = []
  const pex = new PeerExchange({
    self: selfId,
    addrs: () => [`/ip4/10.0.0.1/tcp/4815/p2p/${selfId}`],
    keepsReaching: () => false,
    learnAddrs: (peerId, addrs, hurry) => { learned.push([peerId, addrs, hurry]) },
    isMember: peerId => peerId !== id(strangerRelay),
    sharedSpaces: author => author === authorKeyOf(mate.publicKey) ? ['space-1'] : [],
    folderSpaces: () => ['space-1'],
    now: () => 1000
  })
  const viaRelay = `/ip4/10.0.0.9/tcp/4815/p2p/${id(relay)}/p2p-circuit`
  const viaStranger = `/ip4/10.0.0.8/tcp/4815/p2p/${id(strangerRelay)}/p2p-circuit`
  pex.heard(authorKeyOf(mate.publicKey), [viaStranger, viaRelay], true, ['space-1'])
  pex.heard(authorKeyOf(deploymentOnly.publicKey), ['/ip4/10.0.0.3/tcp/4815'], true)
  assert.deepEqual(learned, [], 'decided together, once the records read at start are all heard')
  await Promise.resolve()
  assert.deepEqual(learned, [[id(mate), [`${viaRelay}/p2p/${id(mate)}`], false]])
  pex.heard(authorKeyOf(mate.publicKey), ['/ip4/10.0.0.2/tcp/4817'], false)
  assert.deepEqual(learned[1], [id(mate), [`/ip4/10.0.0.2/tcp/4817/p2p/${id(mate)}`], true], 'then kept up to date')
  await Promise.resolve()
  assert.equal(learned.length, 2)
})
