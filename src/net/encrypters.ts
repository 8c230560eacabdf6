import assert from 'node:assert/strict'
import { serviceCapabilities } from '@libp2p/interface'
import type { ConnectionEncrypter } from '@libp2p/interface'

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
 *
 * Each encrypter's module is loaded at its first handshake, not at start: TLS
 * brings X.509 and ASN.1 libraries (about 250 modules, 13 MB of heap), which a
 * node with no connection never needs.
 *
 * 'tls' runs OpenSSL on the TCP socket's own handle where the connection is a
 * bare TCP socket, and `@libp2p/tls` elsewhere (tls-direct.ts says why);
 * 'tls-js' is `@libp2p/tls` alone, the same wire, kept for the bench to
 * measure against (config.json accepts only 'tls' and 'noise').
 */
export type EncrypterName = 'tls' | 'tls-js' | 'noise'

const PREFERRED: readonly EncrypterName[] = ['tls', 'noise']

type EncrypterFactory = (components: any) => ConnectionEncrypter

/** Each encrypter's protocol id (as its module names it) and how to make it once loaded. */
interface EncrypterSpec {
  readonly protocol: string
  readonly capabilities: string[]
  readonly load: () => Promise<EncrypterFactory>
}

const ENCRYPTERS: Record<EncrypterName, EncrypterSpec> = {
  tls: {
    protocol: '/tls/1.0.0',
    capabilities: ['@libp2p/connection-encryption'],
    load: async () => (await import('./tls-direct.ts')).directTls()
  },
  'tls-js': {
    protocol: '/tls/1.0.0',
    capabilities: ['@libp2p/connection-encryption'],
    load: async () => (await import('@libp2p/tls')).tls()
  },
  noise: {
    protocol: '/noise',
    capabilities: ['@libp2p/connection-encryption', '@libp2p/noise'],
    load: async () => {
      const [{ noise }, { noiseCrypto }] = await Promise.all([import('@libp2p/noise'), import('./noise-crypto.ts')])
      return noise({ crypto: noiseCrypto })
    }
  }
}

/** libp2p's `connectionEncrypters` for these names, in this order (absent: TLS, then Noise). */
export function connectionEncrypters (names: readonly EncrypterName[] = PREFERRED): EncrypterFactory[] {
  return names.map(name => loadedAtFirstUse(ENCRYPTERS[name]))
}

/** An encrypter that stands in for the real one, made from the same components at the first handshake. */
function loadedAtFirstUse (spec: EncrypterSpec): EncrypterFactory {
  return components => {
    let real: Promise<ConnectionEncrypter> | undefined
    const encrypter = async (): Promise<ConnectionEncrypter> => await (real ??= spec.load().then(make => {
      const made = make(components)
      assert.equal(made.protocol, spec.protocol, 'an encrypter stands in under the protocol id its module uses')
      return made
    }))
    return {
      protocol: spec.protocol,
      [serviceCapabilities]: spec.capabilities,
      secureInbound: async (connection, options) => await (await encrypter()).secureInbound(connection, options),
      secureOutbound: async (connection, options) => await (await encrypter()).secureOutbound(connection, options)
    }
  }
}
