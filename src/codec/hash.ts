import crypto from 'node:crypto'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import * as dagCbor from '@ipld/dag-cbor'
import { sha256 as SHA256_CODE } from 'multiformats/hashes/sha2'

export function sha256 (bytes: Uint8Array): Uint8Array {
  const out = crypto.hash('sha256', bytes, 'buffer')
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
}

/** CIDv1 (dag-cbor, sha2-256) of canonical bytes: how a space is named. */
export function cidOf (bytes: Uint8Array): CID {
  return CID.createV1(dagCbor.code, Digest.create(SHA256_CODE.code, sha256(bytes)))
}

export function cidFromBytes (bytes: Uint8Array): CID | undefined {
  return spaceCid(() => CID.decode(bytes))
}

export function cidFromString (text: string): CID | undefined {
  return spaceCid(() => CID.parse(text))
}

/** A CID of the one kind spaces are named by (v1, dag-cbor, sha2-256), or undefined for anything else. */
function spaceCid (parse: () => CID): CID | undefined {
  try {
    const cid = parse()
    return cid.version === 1 && cid.code === dagCbor.code && cid.multihash.code === SHA256_CODE.code ? cid : undefined
  } catch {
    return undefined
  }
}
