import { z } from 'zod'
import { ALERT_KINDS, FOLDER_MODES } from '../node/index.ts'

/**
 * The shape of every JSON answer of the API, one zod schema per route
 * (`METHOD /path` as route-table.ts spells it), written from what the live
 * server answers: openapi.ts turns them into the document's response
 * schemas, and test/api/responses.test.ts holds real answers to them, so
 * an answer that gains, loses or retypes a field fails there until its
 * schema says so. Objects are closed (no field beyond those named): the CLI
 * and the dashboard read these answers, and a change to them is a change to
 * the contract. Values stored in spaces are any JSON (json.ts says how
 * bytes, big integers and CIDs are written).
 */

const count = z.int().min(0)
const bytes = count
/** A rate or a measurement: not always whole. */
const measure = z.number()
const epochMs = z.number().describe('milliseconds since 1970')
const peerId = z.string().describe('a peer id (12D3KooW…)')
const spaceId = z.string().describe('a space id (bafy…)')
const multiaddr = z.string().describe('a multiaddr')
const anyJson = z.unknown().describe('any JSON value')
const role = z.enum(['owner', 'admin', 'writer', 'reader'])

const ok = z.strictObject({ ok: z.literal(true) })
/** A list route's answer: the whole list (no `after` or `limit` asked), or one page of it. */
const listOrPage = (row: z.ZodType, what: string): z.ZodType => z.union([
  z.array(row).describe(what),
  z.strictObject({
    rows: z.array(row).describe(`${what}: one page (it may be short, even empty, before the end)`),
    next: z.string().nullable().describe('the `after` of the next page; null at the end of the list')
  })
])
const reachability = z.strictObject({
  status: z.enum(['unknown', 'reachable', 'unreachable']).describe('whether members can dial this node'),
  relays: z.array(peerId).describe('the members holding a relay slot for this node')
})

const peer = z.strictObject({
  peerId,
  addrs: z.array(multiaddr),
  direction: z.enum(['inbound', 'outbound']),
  bytesIn: bytes,
  bytesOut: bytes,
  blockBytesIn: bytes,
  blockBytesOut: bytes,
  rttMs: measure.nullable(),
  encryption: z.string().nullable().describe('/tls/1.0.0 or /noise'),
  relayedBy: peerId.nullable().describe('the member relaying this link; null when direct')
})

const space = z.strictObject({
  id: spaceId,
  name: z.string(),
  role: role.nullable(),
  members: count,
  joinWaiting: z.boolean().describe('no role yet: this node\'s join waits for the inviter to admit it (kept across ' +
    'restarts, presented whenever the inviter is reached)'),
  joinRefused: z.strictObject({ reason: z.string(), detail: z.string() }).nullable().describe('no role: the ' +
    'inviter refused this node\'s join (its reason, its words), kept until the space is left or joined again; ' +
    'null otherwise')
})

const folderStatus = z.strictObject({
  root: z.string(),
  mode: z.enum(FOLDER_MODES),
  state: z.enum(['starting', 'scanning', 'syncing', 'idle', 'stopped']),
  localFiles: count,
  localBytes: bytes,
  needFiles: count,
  needBytes: bytes,
  bytesReceived: bytes,
  rateBytesPerSecond: measure,
  peers: z.array(z.strictObject({
    peer: z.string(), rateBytesPerSecond: measure.nullable(), inFlight: count, bytesReceived: bytes
  })),
  etaSeconds: measure.nullable(),
  conflicts: count,
  errors: z.array(z.strictObject({ path: z.string(), error: z.string() })),
  skipped: z.array(z.strictObject({ path: z.string(), problem: z.string() })),
  localChanges: z.strictObject({
    count: count,
    paths: z.array(z.strictObject({ path: z.string(), change: z.enum(['changed', 'deleted']) }))
      .describe('the first 100 by path')
  }).describe('receive-only: paths changed or deleted on this node, not sent; `folder revert` puts them back'),
  lastSyncedMs: epochMs.nullable(),
  totals: z.strictObject({ filesIn: count, filesOut: count, bytesIn: bytes, bytesOut: bytes })
})
const folder = z.strictObject({
  space: spaceId, path: z.string(), mode: z.enum(FOLDER_MODES), name: z.string(), status: folderStatus
})

const version = z.strictObject({ id: z.string(), author: z.string(), mtimeMs: epochMs, size: bytes })
const conflict = z.strictObject({
  path: z.string(),
  current: version.describe('the version under the name'),
  versions: z.array(version.extend({ copy: z.string() })).describe('concurrent versions still unresolved'),
  copies: z.array(z.string()).describe('conflict copies of this path on disk')
})

const alert = z.strictObject({ kind: z.enum(ALERT_KINDS), subject: z.string(), detail: z.string(), sinceMs: epochMs })
const report = z.strictObject({
  name: z.string(),
  version: z.string(),
  startedMs: epochMs,
  periodMs: count,
  load: z.tuple([measure, measure, measure]),
  cpus: count,
  memory: z.strictObject({ totalBytes: bytes, freeBytes: bytes, rssBytes: bytes }),
  disk: z.strictObject({ totalBytes: bytes, freeBytes: bytes }).nullable(),
  temperatureC: measure.nullable(),
  links: z.array(z.strictObject({
    peer: peerId, rttMs: measure.nullable(), inBps: measure, outBps: measure, relayedBy: peerId.optional()
  })),
  spaces: z.array(z.strictObject({ id: z.string(), name: z.string(), entries: count, members: count })),
  folders: z.array(z.strictObject({
    space: z.string(),
    name: z.string(),
    state: z.string(),
    needFiles: count,
    needBytes: bytes,
    bytesPerSecond: measure,
    conflicts: count,
    errors: count
  })),
  traffic: z.strictObject({ bytesIn: bytes, bytesOut: bytes, inBps: measure, outBps: measure }),
  misbehaviour: z.array(z.strictObject({ peer: z.string(), reason: z.string(), points: z.number(), atMs: epochMs })),
  alerts: z.array(alert),
  addrs: z.array(multiaddr)
}).describe('what a node says of itself in its status record')

const summary = z.strictObject({
  nodes: count, up: count, down: count, hot: count, alerts: count, links: count, partitions: count
})
const nodeAlert = alert.extend({ peerId, name: z.string() })
const networkMap = z.strictObject({
  atMs: epochMs,
  self: peerId,
  nodes: z.array(z.strictObject({
    peerId,
    name: z.string(),
    self: z.boolean(),
    up: z.boolean(),
    health: z.enum(['ok', 'hot', 'alert', 'down', 'unknown']),
    reasons: z.array(z.string()),
    lastSeenMs: epochMs.nullable(),
    ageMs: measure.nullable(),
    downAfterMs: count,
    hot: z.boolean(),
    partition: z.int().min(-1).describe('-1 when not up'),
    alerts: z.array(alert),
    report: report.nullable()
  })),
  links: z.array(z.strictObject({
    a: peerId,
    b: peerId,
    rttMs: measure.nullable(),
    bytesPerSecond: measure,
    both: z.boolean(),
    relayedBy: peerId.nullable()
  })),
  partitions: z.array(z.array(peerId)).describe('groups of up nodes connected by links'),
  hot: z.array(peerId),
  alerts: z.array(nodeAlert),
  misbehaviour: z.array(z.strictObject({
    peer: z.string(), reason: z.string(), points: z.number(), atMs: epochMs, seenBy: peerId
  })),
  summary
})

/** Counts by sync message type (`hello`, `entries`, …): only the types seen so far are there. */
const byType = z.record(z.string(), count)
const syncStats = z.strictObject({
  messagesIn: byType,
  bytesIn: byType,
  messagesOut: byType,
  bytesOut: byType,
  entriesIn: count,
  duplicatesIn: count,
  pendingIn: count,
  droppedIn: count,
  divergedRuns: count,
  entriesStored: count,
  entriesServed: count,
  garbageIn: count,
  requestTimeouts: count,
  wantsRefused: count,
  holding: z.strictObject({
    pendingEntries: count, pendingBytes: bytes, claims: count, undrainedBytes: bytes, queuedBytes: bytes
  })
})

/** The answer of each JSON route, by `METHOD /path`; openapi.ts describes the others (text, pages, the stream). */
export const RESPONSES: Readonly<Record<string, z.ZodType>> = {
  'GET /v1/health': z.strictObject({
    status: z.enum(['ok', 'degraded', 'failing'])
      .describe('ok; degraded: an alert of this node is open; failing (503): its store takes no writes'),
    version: z.string()
  }),
  'GET /v1/openapi.json': z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.looseObject({}) }),
  'POST /v1/stop': z.strictObject({ stopping: z.literal(true), pid: count }),
  'GET /v1/id': z.strictObject({ peerId, addrs: z.array(multiaddr), reachability }),
  'GET /v1/peers': z.array(peer),
  'POST /v1/peers': ok,
  'GET /v1/spaces': z.array(space),
  'POST /v1/spaces': z.strictObject({ id: spaceId, name: z.string() }),
  'POST /v1/spaces/:space/invites': z.strictObject({ token: z.string().describe('an invite token, sp1…') }),
  'POST /v1/join': z.strictObject({
    id: spaceId,
    name: z.string(),
    role: role.nullable(),
    deployment: z.string().describe('the deployment status space: "joined", "none offered" or "not joined: why"')
  }),
  'POST /v1/spaces/:space/leave': z.strictObject({
    id: spaceId,
    name: z.string(),
    folder: z.string().nullable().describe('the folder that was bound to the space (its files stay), or null'),
    unansweredInvites: z.number().int().min(0).describe('this node\'s invites to the space that could still admit ' +
      'someone: only their issuer admits, so their joiners need an invite from another member'),
    toldMembers: z.number().int().min(0).describe('connected members this node\'s leave notice was sent to (they ' +
      'pass it on to members that were away): a manager that left counts no more as one there')
  }),
  'GET /v1/spaces/:space/acl': z.array(z.strictObject({ peerId, role: role.nullable() })),
  'POST /v1/spaces/:space/acl': ok,
  'DELETE /v1/spaces/:space/acl/:peer': ok,
  'GET /v1/spaces/:space/kv': listOrPage(z.strictObject({ key: z.string(), value: anyJson }), 'the keys in order'),
  'GET /v1/spaces/:space/kv/:key': z.strictObject({ key: z.string(), value: anyJson }),
  'PUT /v1/spaces/:space/kv/:key': ok,
  'DELETE /v1/spaces/:space/kv/:key': ok,
  'GET /v1/spaces/:space/counters/:name': z.strictObject({
    name: z.string(),
    value: z.union([z.int(), z.string().regex(/^-?[0-9]+$/)])
      .describe('the sum of every add (exact); past 2^53 a string of its digits, as JSON numbers lose such integers')
  }),
  'POST /v1/spaces/:space/counters/:name': ok,
  'GET /v1/spaces/:space/ledger': listOrPage(anyJson, 'the transactions, oldest first'),
  'POST /v1/spaces/:space/ledger': ok,
  'GET /v1/folders': z.array(folder),
  'POST /v1/folders': folder,
  'GET /v1/spaces/:space/folder': folder,
  'DELETE /v1/spaces/:space/folder': z.strictObject({ space: spaceId, path: z.string() }),
  'POST /v1/spaces/:space/folder/sync': folder,
  'POST /v1/spaces/:space/folder/revert': folder,
  'GET /v1/spaces/:space/conflicts': z.array(conflict),
  'POST /v1/spaces/:space/conflicts/resolve': z.strictObject({
    path: z.string(),
    recorded: z.string().nullable().describe('the new record of the path, or null when it needed none'),
    removed: z.array(z.string()).describe('the conflict copies removed')
  }),
  'GET /v1/misbehaviour': z.array(z.strictObject({
    peer: z.string(),
    reason: z.string(),
    points: z.number(),
    score: z.number(),
    atMs: epochMs,
    disconnected: z.boolean()
  })).describe('oldest first, the last 1,000'),
  'POST /v1/backup': z.strictObject({ path: z.string(), bytes }),
  'GET /v1/stats': z.strictObject({
    sync: syncStats,
    blocks: z.strictObject({
      bytesIn: bytes, bytesOut: bytes, blocksIn: count, blocksOut: count, cancelled: count, changed: count
    }),
    writes: z.strictObject({ commits: count, written: count, refused: count })
  }),
  'GET /v1/status': z.strictObject({
    peerId,
    name: z.string(),
    periodMs: count,
    report: report.nullable(),
    alerts: z.array(alert),
    network: summary,
    deployment: z.array(spaceId),
    reachability
  }),
  'GET /v1/net': networkMap,
  'GET /v1/alerts': z.strictObject({
    alerts: z.array(nodeAlert),
    thresholds: z.strictObject({
      temperatureC: z.number(),
      diskFreePercent: z.number(),
      memoryFreePercent: z.number(),
      peerUnreachableSeconds: z.number(),
      folderStuckSeconds: z.number()
    })
  })
}

/**
 * Every error of the API: a stable code and words for a person. `codes`: the
 * codes there are (server.ts's table of their HTTP statuses, passed in).
 */
export const errorResponse = (codes: readonly string[]): z.ZodType => z.strictObject({
  error: z.strictObject({ code: z.enum(codes as [string, ...string[]]).describe('a stable code'), message: z.string() })
})
