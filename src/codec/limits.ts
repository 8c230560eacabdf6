/**
 * Hard limits on everything a peer can make us decode or hold. Each is a
 * bound on memory and CPU per message; a value past one is OVERSIZED.
 */
export const ENTRY_BYTES_MAX = 64 * 1024 // one entry's unsigned bytes; larger data goes through files/ as chunks
export const GENESIS_BYTES_MAX = 1024
export const STATUS_BYTES_MAX = 16 * 1024 // a status record is small telemetry, not data
export const MESSAGE_BYTES_MAX = 4 * 1024 * 1024 // one wire message (a hello of ~40k feeds, or a batch of entries)
export const KEY_BYTES_MAX = 1024 // a kv key
export const NAME_BYTES_MAX = 256 // a space, counter or folder name
export const PATH_BYTES_MAX = 4096 // a file's path in a shared folder (Linux's PATH_MAX)
/** Segments of a local file's path this node shares (codec/file-path.ts localPathProblem; not a rule of records). */
export const PATH_SEGMENTS_MAX = 128
export const FILE_CHUNKS_MAX = 1500 // chunk refs in one record: a file record inline, or one file.part of a bigger file
/** A chunk's size: the chunker's largest (blocks/chunker.ts), one block message. Larger: not written. */
export const FILE_CHUNK_BYTES_MAX = 16 * 1024 * 1024
export const FILE_PARTS_MAX = 1024 // file.part positions a file record lists: 1.5 million chunks
/** The most chunks a file may have: FILE_PARTS_MAX full parts. */
export const FILE_CHUNKS_LIMIT = FILE_CHUNKS_MAX * FILE_PARTS_MAX
export const SUPERSEDES_MAX = 64 // versions one file record says it replaces
export const RUN_ENTRIES_MAX = 1024 // entries in one `entries` message
export const RUN_BYTES_MAX = 2 * 1024 * 1024 // bytes of entries in one `entries` message
export const HELLO_SPACES_MAX = 1024
export const FEEDS_PER_MESSAGE_MAX = 40_000 // rows of a version vector, heads in a `have`, ranges in a `want`
export const REASON_BYTES_MAX = 256
export const INVITE_USES_MAX = 1_000_000
/** Items of a revoke's `keep`: the member's epochs (acl.revoke) or the invite's joins (invite.revoke) it spares. */
export const KEEP_MAX = 4096
/**
 * The joins an invite.revoke this node writes keeps, at most: 34 bytes each, so more than this do not fit in one entry
 * (ENTRY_BYTES_MAX) beside its other fields at their largest, well before KEEP_MAX (a test checks it fits).
 */
export const INVITE_KEEP_MAX = 1920
export const CLOCK_COUNTER_MAX = 0x7fffffff
/**
 * Nesting (decision 14), checked on the bytes by an iterative scan before
 * the decoder (codec/depth.ts), the same on every node. Any CBOR item we
 * decode (messages, status records, tokens, stored rows) nests at most
 * CBOR_DEPTH_MAX arrays, maps and tags; a value a user stores (a kv value, a
 * ledger tx) at most VALUE_DEPTH_MAX, so an entry (entry map, body map,
 * value) at most ENTRY_DEPTH_MAX. Real data is rarely deeper than ten; every
 * recursive routine we run (cborg, JSON.stringify) handles thousands.
 */
export const CBOR_DEPTH_MAX = 64
export const VALUE_DEPTH_MAX = 32
export const ENTRY_DEPTH_MAX = VALUE_DEPTH_MAX + 2
/**
 * A time in milliseconds a peer gives (clocks, status times, creation and
 * expiry times) is at most 2^48 - 1 (year 10889): far inside what Date
 * holds (±8.64e15, `new Date(9e15).toISOString()` throws) and what ledger
 * keys pack in 6 bytes.
 */
export const TIME_MS_MAX = 2 ** 48 - 1
/** The permission bits a file record keeps (decision 19: no setuid, setgid or sticky bit travels). */
export const FILE_MODE_BITS = 0o777
export const HASH_SIZE = 32
export const AUTHOR_SIZE = 32
export const SIGNATURE_SIZE = 64
export const SPACE_ID_SIZE = 36 // CIDv1, dag-cbor, sha2-256
