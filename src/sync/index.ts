/**
 * sync/: the replication protocol as pure state machines: handshake of
 * version vectors, catch-up in bounded windows, announcements and pulls,
 * status gossip, fork-proof forwarding, misbehaviour scores.
 *
 * Bytes and `nowMs` in, bytes and events out. Never imports libp2p,
 * node:net, timers or a clock: net/ and the simulator drive it.
 */
export { SyncEngine } from './engine.ts'
export type { Outbound, Send, SpaceDirectory, SyncEvent, SyncInit } from './types.ts'
export type { Relay, RelayNeighbour } from './relay.ts'
export { ASK_AGAIN_MAX, STATUS_SPACING_MS, StatusGossip } from './status-gossip.ts'
export type { StatusNeighbour, StatusSpace } from './status-gossip.ts'
export type { SyncStats } from './stats.ts'
export * from './constants.ts'
export { CLAIMS_PER_PEER_MAX, preferredSource, SERVE_QUEUE_BYTES_PER_PEER_MAX } from './claims.ts'
