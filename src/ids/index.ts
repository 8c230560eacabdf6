/**
 * ids/: what every layer names things by and fails with. The branded ids
 * (author keys, entry ids, space keys, feed keys, peer ids), each with one
 * constructor from bytes and one parser from untrusted text, and the error
 * convention (SamepageError: a stable code, a message for the reader, a cause).
 *
 * The bottom of the layers: imports nothing of the project, and is pure (no
 * I/O, no clock, no randomness), so every folder may import it.
 */
export { SamepageError, hasCode } from './errors.ts'
export {
  IdError, authorKeyOf, entryIdOf, spaceKeyOf, feedKeyOf, isAuthorKey, isEntryId, isSpaceKey,
  parseAuthorKey, parseEntryId, parseSpaceKey, parseFeedKey, keyBytes
} from './ids.ts'
export type { AuthorKey, EntryId, SpaceKey, FeedKey, IdErrorCode } from './ids.ts'
export type { PeerIdString } from './peer-id.ts'
export { peerIdOf, publicKeyFromPeerId, parsePeerId } from './peer-id.ts'
export { printable, quotedIfUnsafe, unsafeCharIn } from './printable.ts'
export { dataDirOf } from './data-dir.ts'
export { refusedNext } from './join-advice.ts'
