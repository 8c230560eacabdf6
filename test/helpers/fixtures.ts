import crypto from 'node:crypto'
import { keyPairFromSeed } from '../../src/identity/index.ts'
import type { KeyPair } from '../../src/identity/index.ts'

/** Keys derived from a seed and a name: the same test, the same keys, every run. */
export function seededKey (seed: number | string, name: string): KeyPair {
  return keyPairFromSeed(crypto.createHash('sha256').update(`samepage-test/${seed}/${name}`).digest())
}

export const T0 = 1_700_000_000_000
