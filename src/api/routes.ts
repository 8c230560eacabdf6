import { z } from 'zod'
import { INVITE_USES_MAX, NAME_BYTES_MAX } from '../codec/index.ts'
import type { Node } from '../node/index.ts'
import { NodeError, PAGE_ROWS_MAX } from '../node/index.ts'
import { OK_ANSWER } from './json.ts'
import { JsonList } from './json-list.ts'

/**
 * The API's calls, one entry each: method, path, what it does, the schema of
 * its JSON body (when it takes one), and the call. Paths take a SPACE as an
 * id or a unique name. A body is checked against its schema before the call
 * runs (unknown fields refused, so a misspelt option is not silently
 * ignored); the same schemas describe the bodies in openapi.ts.
 *
 * Values (`value`, `tx`) are any JSON and are not walked here: the node
 * bounds their size and depth, and a value nested 100,000 levels must reach
 * that check without anything recursive running first.
 */
export interface Route {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  readonly parts: readonly string[]
  readonly summary: string
  readonly body?: z.ZodType
  /** The query parameters it reads (described in openapi.ts); any other is ignored. */
  readonly query?: readonly QueryParam[]
  /** `query`: the URL's, parsed only when a call reads it (a live write's is not). */
  run (node: Node, params: Record<string, string>, body: Record<string, unknown>, query: () => URLSearchParams): unknown
}

interface QueryParam {
  readonly name: string
  readonly type: 'string' | 'integer'
  readonly description: string
}

type Params = Record<string, string>
type ListPageOf = (node: Node, space: string, after: string | undefined, limit: number) =>
  { rows: unknown[], next: string | null }
type Run<B> = (node: Node, params: Params, body: B, query: () => URLSearchParams) => unknown

/** A call without a body. */
const route = (method: Route['method'], path: string, summary: string, run: Run<unknown>): Route =>
  ({ method, parts: path.split('/').filter(p => p !== ''), summary, run })

/**
 * A list (kv, ledger): without `after` or `limit`, the whole list as a JSON array, streamed a page at a time
 * (json-list.ts); with either, one page as {rows, next}, `next` the `after` of the page that follows (null: the end).
 */
const list = (path: string, summary: string, page: ListPageOf): Route => ({
  ...route('GET', path, summary, (node, p, _b, query) => {
    const space = at(p, 'space')
    const after = query().get('after') ?? undefined
    const limit = query().get('limit') ?? undefined
    if (after === undefined && limit === undefined) {
      return new JsonList(page(node, space, undefined, STREAM_ROWS), next => page(node, space, next, STREAM_ROWS))
    }
    if (limit !== undefined && !/^[0-9]{1,7}$/.test(limit)) {
      throw new NodeError('BAD_INPUT', `limit=${JSON.stringify(limit.slice(0, 40))} is not a whole number ` +
        `from 1 to ${PAGE_ROWS_MAX}`)
    }
    return page(node, space, after, limit === undefined ? PAGE_ROWS_MAX : Number(limit))
  }),
  query: [
    { name: 'limit', type: 'integer', description: `a page of at most this many rows (1 to ${PAGE_ROWS_MAX}; ` +
      'fewer when the page reaches 1 MiB of stored rows): the answer is then {rows, next}' },
    { name: 'after', type: 'string', description: 'the page after this cursor: the `next` of the page before ' +
      '(the answer is then a page, of at most 1,000 rows without limit)' }
  ]
})
/** Rows a page while a whole list is streamed. */
const STREAM_ROWS = 100

/**
 * A call whose body `schema` checks (BAD_INPUT naming the field when it does not fit). `fits`, where given,
 * takes at once a body the schema takes as it is (a live write's), without running zod; any other goes to zod.
 */
function withBody<S extends z.ZodType> (
  method: Route['method'], path: string, summary: string, schema: S, run: Run<z.output<S>>,
  fits?: (body: Record<string, unknown>) => boolean
): Route {
  return {
    method,
    parts: path.split('/').filter(p => p !== ''),
    summary,
    body: schema,
    run: (node, params, body, query) => {
      const checked = fits?.(body) === true ? body as z.output<S> : parseBody(schema, body)
      return run(node, params, checked, query)
    }
  }
}

/** A body that is `{ [field]: any JSON value }` and nothing else: what strictObject({ field: anyValue }) takes. */
const onlyField = (field: string) => (body: Record<string, unknown>): boolean => {
  let fields = 0
  for (const k in body) {
    if (k !== field) return false
    fields++
  }
  return fields === 1 && body[field] !== undefined
}

const OK = OK_ANSWER
/** A path parameter the route's path names (findRoute fills every one). */
const at = (p: Params, name: string): string => p[name] as string
const WEEK_MS = 7 * 24 * 3600_000
const COUNTER_ADD = `add to a counter (its name: 1 to ${NAME_BYTES_MAX} bytes of UTF-8, as every node allows)`

// ---------------------------------------------------------------- the bodies' fields

const text = (k: string) => z.string({ error: `the body needs "${k}" as a non-empty string` })
  .min(1, { error: `the body needs "${k}" as a non-empty string` })
const whole = (k: string) => z.int({ error: `the body needs "${k}" as a whole number` })
/** Any JSON value, not walked (see above); it must be there. */
const anyValue = (k: string) => z.unknown().refine(v => v !== undefined, { error: `the body needs a "${k}"` })
const role = z.enum(['admin', 'writer', 'reader'], { error: 'role must be admin, writer or reader' })

const bodies = {
  dial: z.strictObject({ addr: text('addr').describe('a multiaddr with /p2p/PEER') }),
  createSpace: z.strictObject({ name: text('name') }),
  invite: z.strictObject({
    role,
    uses: whole('uses').optional().describe(`how many nodes may join with it, 1 to ${INVITE_USES_MAX} (default 1)`),
    expiresInMs: whole('expiresInMs').optional().describe('how long it is valid (default 7 days)')
  }),
  join: z.strictObject({
    token: text('token').describe('an invite token, sp1…'),
    waitMs: whole('waitMs').optional().describe('how long to wait for the inviter to admit this node'),
    as: text('as').optional().describe('the space\'s name on this node, when its own name is taken here')
  }),
  leave: z.strictObject({
    force: z.boolean({ error: 'the body\'s "force" is true or false' }).optional()
      .describe('leave even as the last member who can invite or grant there (refused with LAST_ADMIN otherwise), ' +
        'or with writes of this node no connected member holds (UNSENT_WRITES)')
  }),
  grant: z.strictObject({ peer: text('peer').describe('a peer id'), role }),
  kvPut: z.strictObject({ value: anyValue('value').describe('any JSON value') }),
  counterAdd: z.strictObject({ delta: whole('delta') }),
  ledgerAppend: z.strictObject({ tx: anyValue('tx').describe('any JSON value') }),
  folderAdd: z.strictObject({
    space: text('space'),
    path: text('path').describe('an absolute path to an existing directory'),
    mode: text('mode').optional().describe('send-receive (default), send-only or receive-only')
  }),
  keep: z.strictObject({
    path: text('path').describe('the path in conflict, as the conflicts list names it'),
    keep: text('keep').describe('the version to keep: the id of the current or of a concurrent version, ' +
      'or a conflict copy on disk, as the conflicts list names them')
  }),
  backup: z.strictObject({ path: text('path').describe('an absolute path to a file that does not exist yet') })
}

export const routes: readonly Route[] = [
  route('GET', '/v1/id', 'this node\'s peer id and addresses', node => node.id()),
  route('GET', '/v1/peers', 'the peers connected now', node => node.peers()),
  withBody('POST', '/v1/peers', 'dial a peer', bodies.dial, async (node, _p, b) => {
    await node.dial(b.addr)
    return OK
  }),
  route('GET', '/v1/spaces', 'the spaces this node holds', node => node.spaces()),
  withBody('POST', '/v1/spaces', 'create a space', bodies.createSpace, (node, _p, b) => node.createSpace(b.name)),
  withBody('POST', '/v1/spaces/:space/invites', 'make an invite token', bodies.invite, (node, p, b) =>
    node.invite(at(p, 'space'), b.role, b.uses ?? 1, b.expiresInMs ?? WEEK_MS)),
  withBody('POST', '/v1/join', 'join a space with an invite token', bodies.join,
    async (node, _p, b) => await node.join(b.token, b.waitMs, b.as)),
  withBody('POST', '/v1/spaces/:space/leave', 'stop holding a space (its folder\'s files stay)', bodies.leave,
    async (node, p, b) => await node.leave(at(p, 'space'), b.force ?? false)),
  route('GET', '/v1/spaces/:space/acl', 'the members and their roles', (node, p) => node.aclList(at(p, 'space'))),
  withBody('POST', '/v1/spaces/:space/acl', 'grant a role', bodies.grant, (node, p, b) => {
    node.grant(at(p, 'space'), b.peer, b.role)
    return OK
  }),
  route('DELETE', '/v1/spaces/:space/acl/:peer', 'revoke a member', (node, p) => {
    node.revoke(at(p, 'space'), at(p, 'peer'))
    return OK
  }),
  list('/v1/spaces/:space/kv', 'every key and value, or a page of them',
    (node, space, after, limit) => node.kvPage(space, after, limit)),
  route('GET', '/v1/spaces/:space/kv/:key', 'one value', (node, p) => node.kvGet(at(p, 'space'), at(p, 'key'))),
  // Live data writes take the group commit: answered once committed and durable, with the others of their turn.
  withBody('PUT', '/v1/spaces/:space/kv/:key', 'put a value', bodies.kvPut, async (node, p, b) => {
    await node.kvPutGrouped(at(p, 'space'), at(p, 'key'), b.value)
    return OK
  }, onlyField('value')),
  route('DELETE', '/v1/spaces/:space/kv/:key', 'delete a key', async (node, p) => {
    await node.kvDelGrouped(at(p, 'space'), at(p, 'key'))
    return OK
  }),
  route('GET', '/v1/spaces/:space/counters/:name', 'a counter\'s value',
    (node, p) => node.counterGet(at(p, 'space'), at(p, 'name'))),
  withBody('POST', '/v1/spaces/:space/counters/:name', COUNTER_ADD, bodies.counterAdd, async (node, p, b) => {
    await node.counterAddGrouped(at(p, 'space'), at(p, 'name'), b.delta)
    return OK
  }),
  list('/v1/spaces/:space/ledger', 'the ledger\'s transactions, or a page of them',
    (node, space, after, limit) => node.ledgerPage(space, after, limit)),
  withBody('POST', '/v1/spaces/:space/ledger', 'append a transaction', bodies.ledgerAppend, async (node, p, b) => {
    await node.ledgerAppendGrouped(at(p, 'space'), b.tx)
    return OK
  }, onlyField('tx')),
  route('GET', '/v1/folders', 'the folders this node shares', node => node.folderList()),
  withBody('POST', '/v1/folders', 'share a folder as a space', bodies.folderAdd, async (node, _p, b) =>
    await node.folderAdd(b.space, b.path, b.mode ?? 'send-receive')),
  route('GET', '/v1/spaces/:space/folder', 'a folder\'s state and progress',
    (node, p) => node.folderStatus(at(p, 'space'))),
  route('DELETE', '/v1/spaces/:space/folder', 'stop sharing a folder (its files stay)',
    async (node, p) => await node.folderRemove(at(p, 'space'))),
  route('POST', '/v1/spaces/:space/folder/sync', 'rescan a folder now',
    async (node, p) => await node.folderSync(at(p, 'space'))),
  route('POST', '/v1/spaces/:space/folder/revert', 'receive-only: put back the space\'s version of what changed here',
    async (node, p) => await node.folderRevert(at(p, 'space'))),
  route('GET', '/v1/spaces/:space/conflicts', 'a folder\'s conflicts', (node, p) => node.conflicts(at(p, 'space'))),
  withBody('POST', '/v1/spaces/:space/conflicts/resolve', 'end a conflict keeping one version', bodies.keep,
    async (node, p, b) => await node.conflictKeep(at(p, 'space'), b.path, b.keep)),
  route('GET', '/v1/misbehaviour', 'the misbehaviour log', node => node.misbehaviour),
  withBody('POST', '/v1/backup', 'back up the store to a file', bodies.backup,
    async (node, _p, b) => await node.backup(b.path)),
  route('GET', '/v1/stats', 'sync, block and write counters',
    node => ({ sync: node.syncStats(), blocks: node.blockStats(), writes: node.writeStats() })),
  route('GET', '/v1/status', 'this node\'s status record', node => node.status()),
  route('GET', '/v1/net', 'the network map', node => node.network()),
  route('GET', '/v1/alerts', 'open alerts and their thresholds',
    node => ({ alerts: node.alerts(), thresholds: node.alertThresholds() }))
]

/** The body as its schema reads it, or BAD_INPUT with what is wrong (each field's own message, and where). */
function parseBody<S extends z.ZodType> (schema: S, body: Record<string, unknown>): z.output<S> {
  const r = schema.safeParse(body)
  if (r.success) return r.data
  const why = r.error.issues.map(i => {
    if (i.code === 'unrecognized_keys') return `the body has unknown fields: ${i.keys.map(k => `"${k}"`).join(', ')}`
    return i.message
  })
  throw new NodeError('BAD_INPUT', why.join('; '))
}
