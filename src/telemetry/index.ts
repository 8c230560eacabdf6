/**
 * telemetry/: what a node says of itself every few seconds (a signed status
 * record in the deployment's status space), the alerts it raises, and the
 * map of the whole network built from everyone's newest record.
 */
export { StatusPublisher } from './publisher.ts'
export type { TelemetryHost, PublisherOptions } from './publisher.ts'
export { encodeReport, decodeReport, REPORT_LIMITS, ALERT_KINDS } from './report.ts'
export type { NodeReport, LinkReport, SpaceReport, FolderReport, AlertReport, AlertKind, MisbehaviourReport, DecodedReport } from './report.ts'
export { DEFAULT_THRESHOLDS, evaluateAlerts, alertsChanged } from './alerts.ts'
export type { AlertThresholds, AlertFacts } from './alerts.ts'
export { statusPeriodMs, jittered, downAfterMs, BASE_PERIOD_MS, STATUS_RECORDS_PER_SECOND_MAX, ALERT_SPACING_MS } from './period.ts'
export { buildNetworkMap, HOT_LOAD_PER_CORE, HOT_TRAFFIC_FACTOR } from './network-map.ts'
export type { NetworkMap, MapNode, MapLink, StatusSample, Health } from './network-map.ts'
export { probeHost, probeDisk, hottestSensorC } from './probes.ts'
export type { HostProbe } from './probes.ts'
