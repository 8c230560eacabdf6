/**
 * An invite token is one a joiner takes, however many addresses the inviter has (src/node/invite-token.ts,
 * member-commands.ts). Found by a review: `invite` put every address libp2p listed (70 listen addresses) into the
 * token, the joiner's decoder takes 64, and the command printed a token every joiner refused as BAD_TOKEN.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeInviteToken, encodeInviteToken, tokenAddrs } from '../../src/node/invite-token.ts'
import type { InviteToken } from '../../src/node/invite-token.ts'
import { startedNodes } from '../helpers/started-nodes.ts'

test('an inviter listening on 70 addresses prints a token of at most 8, each naming it, that a joiner takes',
  async t => {
    const listen = Array.from({ length: 70 }, (_, i) => `/ip4/127.0.1.${i + 1}/tcp/0`)
    const [r, a] = await startedNodes(t, ['r', 'a'],
      name => ({ listen: name === 'r' ? listen : ['/ip4/127.0.0.1/tcp/0'] }))
    assert.ok(r!.id().addrs.length >= 70)
    const space = r!.createSpace('s').id
    const { token } = r!.invite(space, 'writer', 1, 3_600_000)
    const addrs = decodeInviteToken(token).addrs
    assert.ok(addrs.length > 0 && addrs.length <= 8, `${addrs.length} addresses`)
    assert.ok(addrs.every(x => x.endsWith(`/p2p/${r!.peerId}`)), JSON.stringify(addrs))
    const joined = await a!.join(token, 60_000)
    assert.equal(joined.role, 'writer')
  })

/** A token as `invite` makes one, but for the addresses and the space's genesis. */
function token (addrs: string[], genesisBytes = 100): InviteToken {
  const bytes = (n: number): Uint8Array => new Uint8Array(n).fill(7)
  return {
    genesis: [bytes(genesisBytes), bytes(64)], invite: bytes(32), secret: bytes(32), role: 'writer',
    expiresMs: Date.now() + 3_600_000, addrs, issuer: bytes(32)
  }
}

test('the encoder refuses, with a reason, a token the decoder would refuse', () => {
  const addr = (i: number): string => `/ip4/10.0.0.${i}/tcp/4815`
  const fits = Array.from({ length: 64 }, (_, i) => addr(i))
  assert.equal(decodeInviteToken(encodeInviteToken(token(fits))).addrs.length, 64)
  assert.throws(() => encodeInviteToken(token([...fits, addr(64)])), { code: 'BAD_TOKEN', message: /65 addresses/ })
  assert.throws(() => encodeInviteToken(token([`/dns4/${'a'.repeat(510)}/tcp/1`])), { code: 'BAD_TOKEN' })
  assert.throws(() => encodeInviteToken(token([], 9000)), { code: 'BAD_TOKEN', message: /bytes, at most 8192/ })
})

test('a token carries no relayed address, and keeps loopback when the node has nothing else direct', () => {
  // A node on loopback only with a slot at a relay on its LAN (a review's probe): the relayed address alone went into
  // its tokens, which no joiner can use (a stranger to the relay), and the loopback one was left out.
  const self = '12D3KooWEqWHbCdsKcVmXRDpBgPxbZLpcDS3AHWkkdK3oUuuExz1'
  const relay = '12D3KooWMmtEa4Ch66GbaiEDpz6E6A8M6QG6c9ucyeo1xQeToj7h'
  const own = [`/ip4/127.0.0.1/tcp/4815/p2p/${self}`, `/ip4/192.168.1.20/tcp/4001/p2p/${relay}/p2p-circuit/p2p/${self}`]
  assert.deepEqual(tokenAddrs(own, self), [`/ip4/127.0.0.1/tcp/4815/p2p/${self}`])
})
