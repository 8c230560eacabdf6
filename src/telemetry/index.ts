/**
 * telemetry/: what a node says of itself every few seconds (a signed status
 * record in the deployment's status space), the alerts it raises, and the
 * map of the whole network built from everyone's newest record.
 *
 * Pure (no clock, timer, file or network of its own; test/tidy.test.ts checks it): report.ts (the
 * record's codec), alerts.ts, period.ts and network-map.ts. The two that must touch the world:
 * probes.ts (reads the host) and publisher.ts (the driver: its timers, and the wall clock by default).
 * Imports codec/ and identity/ only; node/ wires it to a running node.
 */
export { StatusPublisher } from './publisher.ts'
export type { TelemetryHost } from './publisher.ts'
export { encodeReport, decodeReport, REPORT_LIMITS, ALERT_KINDS } from './report.ts'
export type { NodeReport, AlertReport } from './report.ts'
export { DEFAULT_THRESHOLDS, evaluateAlerts, alertsChanged } from './alerts.ts'
export type { AlertThresholds } from './alerts.ts'
export { statusPeriodMs, jittered, downAfterMs, BASE_PERIOD_MS, STATUS_RECORDS_PER_SECOND_MAX } from './period.ts'
export { noteOutOfFiles, openFileLimit } from './probes.ts'
export { buildNetworkMap } from './network-map.ts'
export type { NetworkMap, MapNode, MapLink, StatusSample } from './network-map.ts'
