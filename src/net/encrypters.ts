import { noise } from '@libp2p/noise'
import { tls } from '@libp2p/tls'
import type { ConnectionEncrypter } from '@libp2p/interface'
import { noiseCrypto } from './noise-crypto.ts'

/**
 * The connection encrypters a node offers, most preferred first. Both sides
 * of a connection agree on one by multistream-select, in the dialler's order:
 * two nodes that both offer TLS talk TLS 1.3 (OpenSSL's AES-GCM, several times
 * the throughput of Noise's ChaCha20-Poly1305 in JS framing), and a node that
 * offers only Noise (an older samepage) is still answered in Noise.
 *
 * Either way the remote peer id is proven, not claimed: Noise signs the
 * handshake's static key with the libp2p key; TLS carries the libp2p key in a
 * certificate extension that signs the certificate's key, and the handshake
 * proves that key. The peer id, and so the author key the engine authorizes
 * and bans, is derived from that proven key; a dial to a peer id meets a peer
 * holding another key is refused, and the connection gater runs after either.
 */
export type EncrypterName = 'tls' | 'noise'

const PREFERRED: readonly EncrypterName[] = ['tls', 'noise']

type EncrypterFactory = (components: any) => ConnectionEncrypter

/** libp2p's `connectionEncrypters` for these names, in this order (absent: TLS, then Noise). */
export function connectionEncrypters (names: readonly EncrypterName[] = PREFERRED): EncrypterFactory[] {
  return names.map(name => name === 'tls' ? tls() : noise({ crypto: noiseCrypto }))
}
