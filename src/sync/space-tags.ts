import { fromHex, sha256, toHex } from '../codec/index.ts'
import type { AuthorKey, SpaceKey } from '../ids/index.ts'

/**
 * Blinded space tags (decision 17: a stranger learns nothing). A hello names
 * a space in full only to a member; every other space we hold goes as
 * H(domain, space id, sender, receiver). Only a peer that already knows the
 * space id can match it, and a tag made for one peer says nothing to
 * another (it names both ends, so it cannot be replayed elsewhere or linked
 * across peers). The list is padded with tags of no space up to a multiple
 * of TAG_PAD, so a stranger learns at most roughly how many spaces we hold.
 */
const TAG_DOMAIN = new TextEncoder().encode('samepage/space-tag/1')
const PAD_DOMAIN = new TextEncoder().encode('samepage/space-tag-pad/1')
const TAG_PAD = 8

export function spaceTag (spaceId: Uint8Array, from: AuthorKey, to: AuthorKey): Uint8Array {
  return sha256(concat(TAG_DOMAIN, spaceId, fromHex(from), fromHex(to)))
}

/** Our tags for `spaces`, for a hello from `from` to `to`, padded with tags of no space. */
export function helloTags (spaceIds: readonly Uint8Array[], from: AuthorKey, to: AuthorKey): Uint8Array[] {
  const tags = spaceIds.map(id => spaceTag(id, from, to))
  if (tags.length === 0) return tags
  const padded = Math.ceil(tags.length / TAG_PAD) * TAG_PAD
  for (let i = tags.length; i < padded; i++) {
    tags.push(sha256(concat(PAD_DOMAIN, Uint8Array.of(i >> 8, i & 0xff), fromHex(from), fromHex(to))))
  }
  return tags
}

/** Which of our spaces a peer's tag names: the tags it would make for each of them, to us. */
export function tagIndex (spaces: Iterable<{ readonly key: SpaceKey, readonly id: Uint8Array }>, peer: AuthorKey,
  self: AuthorKey): Map<string, SpaceKey> {
  const index = new Map<string, SpaceKey>()
  for (const s of spaces) index.set(toHex(spaceTag(s.id, peer, self)), s.key)
  return index
}

function concat (...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) { out.set(p, at); at += p.length }
  return out
}
