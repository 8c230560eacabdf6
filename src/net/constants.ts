import { MESSAGE_BYTES_MAX } from '../codec/index.ts'
import { PULL_BYTES_PER_PEER_MAX } from '../sync/index.ts'

/** The sync protocol's id; the version moves with codec's PROTOCOL_VERSION. */
export const SYNC_PROTOCOL = '/samepage/sync/2.0.0'

/** Frames are varint length-prefixed; a frame past this is the sender's misbehaviour. */
export const FRAME_BYTES_MAX = MESSAGE_BYTES_MAX
/**
 * Bytes of a session received and not yet read (while the node is busy with
 * earlier frames). An honest peer sends only what we asked for (at most
 * PULL_BYTES_PER_PEER_MAX) plus a hello and small announcements; past this,
 * the peer is sending what nobody asked for and the session ends as garbage.
 */
export const UNREAD_BYTES_MAX = 2 * PULL_BYTES_PER_PEER_MAX + 2 * MESSAGE_BYTES_MAX
/** One session per connection needs one stream each way at most; a few more tolerate a reconnect race. */
export const SYNC_STREAMS_PER_CONNECTION_MAX = 4
export const CONNECTIONS_MAX = 300
/** Static peers dialled at once at most (each redialled on its own backoff: redial.ts). */
export const REDIAL_PARALLEL_MAX = 8
export const DIAL_TIMEOUT_MS = 10_000
/**
 * A stop waits at most this long for what the node said last to leave (the frames held for a sync, then those
 * queued on each session): a peer that reads nothing, or a disk that never syncs, cannot hold a stop longer.
 */
export const STOP_FLUSH_MS = 2_000
/**
 * libp2p's connection monitor pings every link each 10 s and cut it when no answer came within 5 s: a node whose
 * event loop was busy for seconds (a member's hello of 40,000 feeds, a loaded machine) cut its honest links, or
 * had them cut. An answer that lags this long still keeps the link; a dead one is found within 40 s.
 */
export const PING_TIMEOUT_MIN_MS = 30_000
/** samepage's own mDNS service, so that other libp2p programs on the LAN are not dialled. */
export const MDNS_SERVICE_TAG = '_samepage._udp.local'
export const MDNS_QUERY_MS = 5_000
