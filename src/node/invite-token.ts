import { base58btc } from 'multiformats/bases/base58'
import { decodeCbor, encodeCbor, isCodecError } from '../codec/index.ts'
import { fields as f } from '../codec/index.ts'
import type { GrantableRole, SignedBytes } from '../codec/index.ts'
import { NodeError } from './errors.ts'
import { advertisedAddrs } from '../net/index.ts'

/**
 * What an invite token carries (decision 9): the space's genesis, the invite
 * entry's id, the invite's secret key (never sent over the wire: it only
 * countersigns the join), the role, the expiry, and the inviter's addresses.
 * It also carries an admin invite to the inviter's deployment status space
 * (see deployment.ts), so that every node invited anywhere joins the
 * deployment's telemetry. Encoded as base58btc DAG-CBOR, prefixed so a pasted
 * token is recognizable.
 */
interface DeploymentInvite {
  readonly genesis: SignedBytes
  readonly invite: Uint8Array
  readonly secret: Uint8Array
}

export interface InviteToken {
  readonly genesis: SignedBytes
  readonly invite: Uint8Array
  readonly secret: Uint8Array
  readonly role: GrantableRole
  readonly expiresMs: number
  readonly addrs: readonly string[]
  readonly deployment?: DeploymentInvite | undefined
  /** The inviter's public key: the only peer whose answer to the join counts (decision 18). Absent in older tokens. */
  readonly issuer?: Uint8Array | undefined
}

const PREFIX = 'sp1'
const TOKEN_BYTES_MAX = 8 * 1024
/** The inviter's addresses a token may carry, and the characters of each (what decodeInviteToken takes). */
const TOKEN_ADDRS_MAX = 64
const TOKEN_ADDR_CHARS_MAX = 512
const BAD_TOKEN_HINT = 'ask the inviter for a new one and paste it whole'

/** A token a joiner would take: past the decoder's limits, a NodeError saying why, never a token no one can use. */
export function encodeInviteToken (t: InviteToken): string {
  const cannot = (why: string): NodeError =>
    new NodeError('BAD_TOKEN', `this node cannot make an invite token (${why})`)
  if (t.addrs.length > TOKEN_ADDRS_MAX) throw cannot(`${t.addrs.length} addresses, at most ${TOKEN_ADDRS_MAX}`)
  const long = t.addrs.find(a => a.length > TOKEN_ADDR_CHARS_MAX)
  if (long !== undefined) throw cannot(`an address of ${long.length} characters, at most ${TOKEN_ADDR_CHARS_MAX}`)
  const dep = t.deployment
  const d = dep === undefined ? {} : { d: { g: dep.genesis, i: dep.invite, k: dep.secret } }
  const n = t.issuer === undefined ? {} : { n: t.issuer }
  const fields = { g: t.genesis, i: t.invite, k: t.secret, r: t.role, x: t.expiresMs, a: t.addrs, ...d, ...n }
  const cbor = encodeCbor(fields)
  if (cbor.byteLength > TOKEN_BYTES_MAX) throw cannot(`${cbor.byteLength} bytes, at most ${TOKEN_BYTES_MAX}`)
  return PREFIX + base58btc.baseEncode(cbor)
}

export function decodeInviteToken (text: string): InviteToken {
  const bad = (why: string): NodeError =>
    new NodeError('BAD_TOKEN', `this invite token is not valid (${why}); ${BAD_TOKEN_HINT}`)
  const trimmed = text.trim()
  if (!trimmed.startsWith(PREFIX) || trimmed.length > TOKEN_BYTES_MAX * 2) throw bad('it does not start with sp1')
  let bytes: Uint8Array
  try {
    bytes = base58btc.baseDecode(trimmed.slice(PREFIX.length))
  } catch {
    throw bad('not base58')
  }
  try {
    const cbor = decodeCbor(bytes, 'token', TOKEN_BYTES_MAX, false)
    const v = f.map(cbor, 'token', ['g', 'i', 'k', 'r', 'x', 'a', 'd', 'n'])
    const genesis = (raw: unknown, path: string): SignedBytes => {
      const g = f.array(raw, path, 2, 2)
      return [f.bytes(g[0], `${path}[0]`), f.bytes(g[1], `${path}[1]`, 64)]
    }
    const d = v.d === undefined ? undefined : f.map(v.d, 'token.d', ['g', 'i', 'k'])
    return {
      genesis: genesis(v.g, 'token.g'),
      invite: f.bytes(v.i, 'token.i', 32),
      secret: f.bytes(v.k, 'token.k', 32),
      role: f.oneOf(v.r, 'token.r', ['admin', 'writer', 'reader'] as const),
      expiresMs: f.int(v.x, 'token.x'),
      addrs: f.array(v.a, 'token.a', TOKEN_ADDRS_MAX).map((a, i) => f.string(a, `token.a[${i}]`, TOKEN_ADDR_CHARS_MAX)),
      deployment: d === undefined
        ? undefined
        : {
            genesis: genesis(d.g, 'token.d.g'),
            invite: f.bytes(d.i, 'token.d.i', 32),
            secret: f.bytes(d.k, 'token.d.k', 32)
          },
      issuer: v.n === undefined ? undefined : f.bytes(v.n, 'token.n', 32)
    }
  } catch (err) {
    if (isCodecError(err)) throw bad(err.message)
    throw err
  }
}

/**
 * The inviter's addresses a token carries: its direct ones as peer exchange publishes them (at most 8, loopback only
 * when it has nothing else), each naming the inviter, so a joiner's dial to another key fails its handshake. No
 * relayed address: a joiner is a stranger to every relay (net/relay-views.ts resets its hop stream), and counted among
 * the node's own, a relayed one on a LAN made loopback look unneeded, so a token of only it joined nobody (a review).
 */
export function tokenAddrs (own: readonly string[], self: string): string[] {
  const direct = own.filter(a => !a.includes('/p2p-circuit'))
  return advertisedAddrs(direct, self, () => false).map(a => `${a}/p2p/${self}`)
}
