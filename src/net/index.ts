/**
 * net/: the libp2p node and the driver of the sync engine over it: TCP,
 * TLS or Noise (negotiated), Yamux, identify, ping; the sync protocol on its own versioned id;
 * one session per connection (the session table); the sync driver, sole
 * owner of the engine, that pumps after every input; the block links;
 * connection and frame limits; banned peers refused by the connection gater;
 * the redial schedule, and peer exchange's address rule (which addresses a member may name).
 *
 * Imports sync/ and below; never node/, api/ or cli/.
 */
export { Network } from './network.ts'
export type { PeerInfo } from './peer-info.ts'
export { SessionTable } from './sessions.ts'
export { SyncDriver } from './sync-driver.ts'
export { BlockLinks } from './block-links.ts'
export { STOP_FLUSH_MS, SYNC_PROTOCOL } from './constants.ts'
export { BLOCK_PROTOCOL } from './blocks.ts'
export { BlockLink } from './block-link.ts'
export type { BlockAnswer, BlockServed, BlockProvider } from './blocks.ts'
export { BlockFetch } from './block-fetch.ts'
export { RateLimit } from './rate-limit.ts'
export { connectionEncrypters } from './encrypters.ts'
export { advertisedAddrs, dialableAddrs } from './peer-exchange.ts'
export { MeshLinks } from './peer-exchange-links.ts'
export type { MeshCandidate } from './peer-exchange-links.ts'
export type { EncrypterName } from './encrypters.ts'
export { Libp2pMetrics } from './libp2p-metrics.ts'
export type { RelayLimits, RelayPolicy } from './relay.ts'
export type { Reachability } from './reachability.ts'
