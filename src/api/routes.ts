import type { Node } from '../node/index.ts'
import { NodeError } from '../node/index.ts'

/**
 * The API's calls, one line each: method, path, what it does. Paths take a
 * SPACE as an id or a unique name. Bodies are JSON objects.
 */
export interface Route {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  readonly parts: readonly string[]
  run (node: Node, params: Record<string, string>, body: Record<string, unknown>): unknown
}

const route = (method: Route['method'], path: string, run: Route['run']): Route =>
  ({ method, parts: path.split('/').filter(p => p !== ''), run })
const OK = { ok: true } as const
/** A path parameter the route's path names (findRoute fills every one). */
const at = (p: Record<string, string>, name: string): string => p[name] as string
const WEEK_MS = 7 * 24 * 3600_000

export const routes: readonly Route[] = [
  route('GET', '/v1/id', node => node.id()),
  route('GET', '/v1/peers', node => node.peers()),
  route('POST', '/v1/peers', async (node, _p, b) => { await node.dial(str(b, 'addr')); return OK }),
  route('GET', '/v1/spaces', node => node.spaces()),
  route('POST', '/v1/spaces', (node, _p, b) => node.createSpace(str(b, 'name'))),
  route('POST', '/v1/spaces/:space/invites', (node, p, b) =>
    node.invite(at(p, 'space'), role(b), optInt(b, 'uses') ?? 1, optInt(b, 'expiresInMs') ?? WEEK_MS)),
  route('POST', '/v1/join', async (node, _p, b) => await node.join(str(b, 'token'), optInt(b, 'waitMs'))),
  route('GET', '/v1/spaces/:space/acl', (node, p) => node.aclList(at(p, 'space'))),
  route('POST', '/v1/spaces/:space/acl', (node, p, b) => {
    node.grant(at(p, 'space'), str(b, 'peer'), role(b))
    return OK
  }),
  route('DELETE', '/v1/spaces/:space/acl/:peer', (node, p) => {
    node.revoke(at(p, 'space'), at(p, 'peer'))
    return OK
  }),
  route('GET', '/v1/spaces/:space/kv', (node, p) => node.kvList(at(p, 'space'))),
  route('GET', '/v1/spaces/:space/kv/:key', (node, p) => node.kvGet(at(p, 'space'), at(p, 'key'))),
  // Live data writes take the group commit: answered once committed and durable, with the others of their turn.
  route('PUT', '/v1/spaces/:space/kv/:key', async (node, p, b) => {
    await node.kvPutGrouped(at(p, 'space'), at(p, 'key'), field(b, 'value'))
    return OK
  }),
  route('DELETE', '/v1/spaces/:space/kv/:key', async (node, p) => {
    await node.kvDelGrouped(at(p, 'space'), at(p, 'key'))
    return OK
  }),
  route('GET', '/v1/spaces/:space/counters/:name', (node, p) => node.counterGet(at(p, 'space'), at(p, 'name'))),
  route('POST', '/v1/spaces/:space/counters/:name', async (node, p, b) => {
    await node.counterAddGrouped(at(p, 'space'), at(p, 'name'), num(b, 'delta'))
    return OK
  }),
  route('GET', '/v1/spaces/:space/ledger', (node, p) => node.ledgerList(at(p, 'space'))),
  route('POST', '/v1/spaces/:space/ledger', async (node, p, b) => {
    await node.ledgerAppendGrouped(at(p, 'space'), field(b, 'tx'))
    return OK
  }),
  route('GET', '/v1/folders', node => node.folderList()),
  route('POST', '/v1/folders', async (node, _p, b) =>
    await node.folderAdd(str(b, 'space'), str(b, 'path'), b.mode === undefined ? 'send-receive' : str(b, 'mode'))),
  route('GET', '/v1/spaces/:space/folder', (node, p) => node.folderStatus(at(p, 'space'))),
  route('DELETE', '/v1/spaces/:space/folder', async (node, p) => await node.folderRemove(at(p, 'space'))),
  route('POST', '/v1/spaces/:space/folder/sync', async (node, p) => await node.folderSync(at(p, 'space'))),
  route('GET', '/v1/spaces/:space/conflicts', (node, p) => node.conflicts(at(p, 'space'))),
  route('GET', '/v1/misbehaviour', node => node.misbehaviour),
  route('POST', '/v1/backup', async (node, _p, b) => await node.backup(str(b, 'path'))),
  route('GET', '/v1/stats', node => ({ sync: node.syncStats(), blocks: node.blockStats(), writes: node.writeStats() })),
  route('GET', '/v1/status', node => node.status()),
  route('GET', '/v1/net', node => node.network()),
  route('GET', '/v1/alerts', node => ({ alerts: node.alerts(), thresholds: node.alertThresholds() }))
]

/** A field the body must have, of any JSON type. */
function field (b: Record<string, unknown>, k: string): unknown {
  if (!(k in b)) throw new NodeError('BAD_INPUT', `the body needs a "${k}"`)
  return b[k]
}

function str (b: Record<string, unknown>, k: string): string {
  const v = b[k]
  if (typeof v !== 'string' || v === '') throw new NodeError('BAD_INPUT', `the body needs "${k}" as a non-empty string`)
  return v
}

function num (b: Record<string, unknown>, k: string): number {
  const v = b[k]
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
    throw new NodeError('BAD_INPUT', `the body needs "${k}" as a whole number`)
  }
  return v
}

function optInt (b: Record<string, unknown>, k: string): number | undefined {
  return b[k] === undefined ? undefined : num(b, k)
}

function role (b: Record<string, unknown>): 'admin' | 'writer' | 'reader' {
  const v = b.role
  if (v !== 'admin' && v !== 'writer' && v !== 'reader') {
    throw new NodeError('BAD_INPUT', 'role must be admin, writer or reader')
  }
  return v
}
