import { readTextOr } from '../atomic-file/index.ts'
import { bytesEqual, fromHex, sha256, toHex } from '../codec/index.ts'
import type { SignedBytes } from '../codec/index.ts'
import { keyPairFromSeed } from '../identity/index.ts'
import { entryIdOf, parseAuthorKey, parseSpaceKey, printable, refusedNext } from '../ids/index.ts'
import type { AuthorKey, EntryId, SpaceKey } from '../ids/index.ts'
import type { SyncDriver } from '../net/index.ts'
import { SpaceError } from '../space/index.ts'
import type { SpaceReplica } from '../space/index.ts'
import { NodeError } from './errors.ts'
import type { InviteToken } from './invite-token.ts'
import type { SpaceListed, SpaceSet } from './space-set.ts'
import { saveNodeFile, storageRefused } from './storage-health.ts'
import type { NodeTelemetry } from './telemetry.ts'
import type { LocalWrites } from './writes.ts'

type DeploymentInvite = NonNullable<InviteToken['deployment']>

/** An issuer's answers that are no refusal: the join waits on, or is in. */
const STILL_ADMITTING: readonly string[] = ['waiting', 'redeemed', 'already-member']

/** What a join of this node needs until it takes effect, kept across restarts. */
interface OwnJoin {
  /** The join entry as signed: presented again after a restart, the very entry (no new epoch, no second use). */
  readonly join: SignedBytes
  /** The inviter's addresses the token carried: dialled again at start (the inviter may never have been reached). */
  readonly addrs: readonly string[]
  /** The token's invite to the inviter's deployment status space: joined once this join takes effect. */
  readonly deployment?: DeploymentInvite | undefined
  /** The invite's issuer, as the token names it: its refusal ends the join for good (others' words do not). */
  readonly issuer?: AuthorKey | undefined
}

/** Why the issuer refused our join, as it said it (cut and printable: a peer's words). */
interface JoinRefusal {
  readonly reason: string
  readonly detail: string
}

/** One space of `space list`: with no role, our join there refused by its issuer (until left or joined again). */
export type SpaceShown = SpaceListed & { readonly joinRefused: JoinRefusal | null }

interface OwnJoinsInit {
  /** D/joins.json (private: it holds the deployment invite's secret); undefined: kept in memory only. */
  readonly file: string | undefined
  readonly me: AuthorKey
  readonly spaces: SpaceSet
  readonly writes: LocalWrites
  readonly driver: SyncDriver
  readonly telemetry: NodeTelemetry
  /** Dials an inviter's address, and keeps dialling it while unreachable. */
  readonly dial: (addr: string) => void
  /** What the operator must hear: a join that took effect whose deployment could not be joined, a join refused. */
  readonly notice: (message: string) => void
}

/**
 * This node's own joins that have not taken effect yet (decision 18), kept on disk (D/joins.json) until they do.
 * A join waits in the replica's pending queue, in memory, for its invite to arrive from the inviter: a restart
 * (a kill, a clean stop, a reboot) used to lose it for good, leaving the space held with no role and the inviter
 * taking this node for a stranger. At start each is held and presented again, and its inviter dialled. Once a join
 * takes effect, whenever that is (during `space join`, after its wait ran out, after a restart), the deployment
 * status space its token named is joined, so that every node invited anywhere is in the deployment. Its issuer's
 * refusal ends it for good: it is no longer presented, and `space list` says why until the space is left or joined
 * again (kept on disk too, so a restart says the same).
 */
export class OwnJoins {
  readonly #init: OwnJoinsInit
  readonly #joins: Map<SpaceKey, OwnJoin>
  readonly #refused: Map<SpaceKey, JoinRefusal>
  /** Joins whose deployment failed for a reason of this node (a full disk): tried again at the next start only. */
  readonly #failed = new Set<SpaceKey>()
  #running = false

  constructor (init: OwnJoinsInit) {
    this.#init = init
    const kept = init.file === undefined ? { joins: [], refused: [] } : readJoins(init.file)
    this.#joins = new Map(kept.joins)
    this.#refused = new Map(kept.refused)
  }

  /**
   * Adopts the space and writes our join, kept until it takes effect; null when we are a member already.
   * `reuse`: our join of the same invite still waiting is the one (the deployment's, which `stored` may have
   * written a moment before `space join` asks for it); a space's join is written anew, so its inviter answers again.
   */
  join (
    genesis: SignedBytes, invite: Uint8Array, secret: Uint8Array,
    how: {
      what: string, as?: string | undefined, addrs: readonly string[], deployment?: DeploymentInvite | undefined,
      issuer?: AuthorKey | undefined, reuse?: true
    }
  ): { replica: SpaceReplica, join: EntryId | null } {
    const { spaces, me, driver, writes } = this.#init
    const replica = spaces.adopt(genesis, how.what, how.as)
    const refused = new Map(this.#refused)
    refused.delete(replica.key) // joined again: an earlier refusal is no longer the news
    if (replica.localRole(me) !== null) {
      if (refused.size !== this.#refused.size) this.#save(this.#joins, refused)
      driver.spaceAdded(replica.key)
      return { replica, join: null }
    }
    const waiting = how.reuse === true ? replica.pendingJoinEntry(me) : undefined
    const entry = waiting !== undefined && waiting.body.t === 'join' && bytesEqual(waiting.body.invite, invite)
      ? waiting
      : writes.join(replica, invite, keyPairFromSeed(secret))
    this.#save(new Map(this.#joins).set(replica.key, {
      join: [entry.bytes, entry.sig], addrs: how.addrs, deployment: how.deployment, issuer: how.issuer
    }), refused)
    return { replica, join: entryIdOf(entry.id) }
  }

  /** The deployment status space a token named, joined (see join); it counts as the deployment from now on. */
  joinDeployment (
    d: DeploymentInvite, addrs: readonly string[], issuer: AuthorKey | undefined
  ): { replica: SpaceReplica, join: EntryId | null } {
    const what = 'the deployment status space of this invite'
    const joined = this.join(d.genesis, d.invite, d.secret, { what, addrs, issuer, reuse: true })
    this.#init.telemetry.joined(joined.replica.key)
    return joined
  }

  /** On the network: our joins written before are held and presented again; those that took effect finish. */
  start (): void {
    this.#running = true
    const { spaces, me, driver } = this.#init
    const gone = [...this.#refused.keys()].filter(k => spaces.get(k)?.localRole(me) !== null) // left, or a member now
    if (gone.length > 0) this.#save(this.#joins, new Map([...this.#refused].filter(([k]) => !gone.includes(k))))
    for (const [space, own] of [...this.#joins]) {
      const replica = spaces.get(space)
      if (replica === undefined) { this.#forget(space); continue } // the space was left
      if (replica.localRole(me) === null && driver.restoreJoin(space, own.join) === undefined) {
        this.#forget(space) // not a join of ours (a damaged file): nothing to present
        continue
      }
      if (replica.localRole(me) !== null) this.#tookEffect(space, own)
      else for (const addr of own.addrs) this.#init.dial(addr)
    }
  }

  stop (): void {
    this.#running = false
  }

  /** Entries of `space` were stored: if they admitted us, our join there is done and its deployment joined. */
  stored (space: SpaceKey): void {
    const own = this.#joins.get(space)
    if (!this.#running || own === undefined || this.#failed.has(space)) return
    if (this.#init.spaces.get(space)?.localRole(this.#init.me) == null) return
    // After the event: joining the deployment writes, which the engine's handling of its events must not do within.
    setImmediate(() => {
      if (this.#running && this.#joins.get(space) === own) this.#tookEffect(space, own)
    })
  }

  /**
   * A peer answered a join of ours: the issuer's refusal (a dead invite, a revoked member) ends it for good. It is
   * presented no more, now or after a restart, and `space list` says why; a notice too when no `space join` waits
   * for it (`told`: one did, and said why). Anyone else's word changes nothing (join-wait.ts).
   */
  answered (space: SpaceKey, join: EntryId, from: AuthorKey, answer: JoinRefusal, told: boolean): void {
    const own = this.#joins.get(space)
    if (own === undefined || own.issuer !== from || STILL_ADMITTING.includes(answer.reason)) return
    if (entryIdOf(sha256(own.join[0])) !== join) return // an older join of ours, replaced by this one
    const refusal = { reason: printable(answer.reason, 32), detail: printable(answer.detail, 200) }
    this.#init.driver.dropJoins(space)
    const joins = new Map(this.#joins)
    joins.delete(space)
    this.#save(joins, new Map(this.#refused).set(space, refusal))
    if (told) return
    const replica = this.#init.spaces.get(space)
    const name = replica === undefined ? space : this.#init.spaces.nameOf(replica)
    const which = this.#init.telemetry.deployment.has(space)
      ? `the deployment status space ${name} of an invite`
      : `space ${name}`
    this.#init.notice(`your join of ${which} was refused by its inviter (${refusal.reason}: ${refusal.detail}); ` +
      refusedNext(name))
  }

  /** The spaces of `space list`, each with the issuer's refusal of our join there, if that is why it has no role. */
  listed (): SpaceShown[] {
    return this.#init.spaces.list().map(s => ({
      ...s, joinRefused: s.role === null ? this.#refused.get(s.id) ?? null : null
    }))
  }

  /** The node left the space: its join there is nothing to present any more, nor its refusal news. */
  forget (space: SpaceKey): void {
    if (!this.#joins.has(space) && !this.#refused.has(space)) return
    const joins = new Map(this.#joins)
    joins.delete(space)
    const refused = new Map(this.#refused)
    refused.delete(space)
    this.#save(joins, refused)
  }

  #tookEffect (space: SpaceKey, own: OwnJoin): void {
    if (own.deployment !== undefined) {
      try {
        this.joinDeployment(own.deployment, own.addrs, own.issuer)
      } catch (err) {
        // A disk that refused a save is no refusal of the join: it is tried again, as an unexpected error is.
        const refused = !storageRefused(err) && (err instanceof NodeError || err instanceof SpaceError)
        const name = this.#init.spaces.get(space)?.genesis.name ?? space
        this.#init.notice(`joined space ${name}, but not its inviter's deployment status space ` +
          `(${err instanceof Error ? err.message : String(err)}); ` +
          (refused ? 'ask for a new invite and join with it' : 'it is tried again at the next start'))
        if (!refused) { this.#failed.add(space); return }
      }
    }
    this.#forget(space)
  }

  #forget (space: SpaceKey): void {
    if (!this.#joins.has(space)) return
    const next = new Map(this.#joins)
    next.delete(space)
    this.#save(next, this.#refused)
  }

  /** On disk first: a write that fails (a full disk) leaves the file and the maps as they were. */
  #save (joins: Map<SpaceKey, OwnJoin>, refused: Map<SpaceKey, JoinRefusal>): void {
    if (this.#init.file !== undefined) saveNodeFile(this.#init.file, encodeJoins(joins, refused))
    replaceAll(this.#joins, joins)
    replaceAll(this.#refused, refused)
  }
}

/** What the operator can do about a refused join, the same in the notice and in `space list`. */
function replaceAll<K, V> (map: Map<K, V>, next: Map<K, V>): void {
  if (map === next) return
  map.clear()
  for (const [k, v] of next) map.set(k, v)
}

function encodeJoins (joins: Map<SpaceKey, OwnJoin>, refused: Map<SpaceKey, JoinRefusal>): string {
  const pair = (p: SignedBytes): string[] => [toHex(p[0]), toHex(p[1])]
  const out = Object.fromEntries([...joins].map(([k, j]) => [k, {
    join: pair(j.join),
    addrs: j.addrs,
    ...j.issuer === undefined ? {} : { issuer: j.issuer },
    ...j.deployment === undefined
      ? {}
      : { deployment: { genesis: pair(j.deployment.genesis), invite: toHex(j.deployment.invite),
          secret: toHex(j.deployment.secret) } }
  }]))
  return JSON.stringify({ joins: out, refused: Object.fromEntries(refused) }, null, 2) + '\n'
}

/** D/joins.json as written by encodeJoins; `refused` is optional (a file of before refusals were kept has none). */
function readJoins (file: string): { joins: [SpaceKey, OwnJoin][], refused: [SpaceKey, JoinRefusal][] } {
  const text = readTextOr(file, null)
  if (text === null) return { joins: [], refused: [] }
  try {
    const v = JSON.parse(text) as { joins?: unknown, refused?: unknown }
    if (v.joins === null || typeof v.joins !== 'object') throw new TypeError('no joins')
    const refused = v.refused ?? {}
    if (refused === null || typeof refused !== 'object') throw new TypeError('no refused joins')
    return {
      joins: Object.entries(v.joins).map(([k, j]) => [parseSpaceKey(k), decodeJoin(j)]),
      refused: Object.entries(refused).map(([k, r]) => [parseSpaceKey(k), decodeRefusal(r)])
    }
  } catch {
    throw new NodeError('BAD_CONFIG', `${file} is not {"joins": {space id: {join, addrs, deployment}}, "refused": ` +
      '{space id: {reason, detail}}}; restore it, or remove it and run samepage space join TOKEN again for each ' +
      'space whose join still waits')
  }
}

function decodeRefusal (r: unknown): JoinRefusal {
  const o = r as { reason?: unknown, detail?: unknown } | null
  if (typeof o?.reason !== 'string' || typeof o.detail !== 'string') throw new TypeError('no reason')
  return { reason: printable(o.reason, 32), detail: printable(o.detail, 200) }
}

function decodeJoin (j: unknown): OwnJoin {
  const o = j as { join?: unknown, addrs?: unknown, deployment?: unknown, issuer?: unknown }
  const hex = (x: unknown): Uint8Array => {
    if (typeof x !== 'string') throw new TypeError('not hex')
    return fromHex(x)
  }
  const pair = (p: unknown): SignedBytes => {
    if (!Array.isArray(p) || p.length !== 2) throw new TypeError('not a pair')
    return [hex(p[0]), hex(p[1])]
  }
  if (!Array.isArray(o.addrs) || !o.addrs.every(a => typeof a === 'string')) throw new TypeError('no addrs')
  const d = o.deployment as { genesis?: unknown, invite?: unknown, secret?: unknown } | undefined
  return {
    join: pair(o.join),
    addrs: o.addrs as string[],
    issuer: o.issuer === undefined ? undefined : parseAuthorKey(String(o.issuer)),
    deployment: d === undefined ? undefined : { genesis: pair(d.genesis), invite: hex(d.invite), secret: hex(d.secret) }
  }
}
