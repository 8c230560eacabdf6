import { decodeGenesis, fromHex, INVITE_USES_MAX, isCodecError, TIME_MS_MAX } from '../codec/index.ts'
import type { GrantableRole, Role } from '../codec/index.ts'
import { generateKeyPair, peerIdOf, publicKeyFromPeerId } from '../identity/index.ts'
import type { KeyPair } from '../identity/index.ts'
import { authorKeyOf, isSpaceKey, spaceKeyOf, unsafeCharIn } from '../ids/index.ts'
import type { Network, SyncDriver } from '../net/index.ts'
import type { SpaceReplica } from '../space/index.ts'
import type { AuthorKey, EntryId, SpaceKey } from '../ids/index.ts'
import { DEPLOYMENT_SPACE_NAME } from './deployment.ts'
import { NodeError } from './errors.ts'
import { decodeInviteToken, encodeInviteToken, tokenAddrs } from './invite-token.ts'
import type { InviteToken } from './invite-token.ts'
import type { InviteSweep } from './invite-sweep.ts'
import type { JoinOutcome, JoinWaits } from './join-wait.ts'
import {
  checkInvite, deploymentInviteRole, deploymentPromotions, grantBody, joinError, revokeBody
} from './membership.ts'
import type { SpaceSet } from './space-set.ts'
import { storageRefused } from './storage-health.ts'
import type { OwnJoins } from './own-joins.ts'
import type { NodeTelemetry } from './telemetry.ts'
import type { LocalWrites } from './writes.ts'

/** How long `space join` waits for the inviter to admit this node, unless told otherwise. */
export const JOIN_WAIT_MS = 60_000
/** A space's name, in bytes of UTF-8. */
const SPACE_NAME_BYTES_MAX = 256
/** The longest `space join` may be told to wait (--wait up to 1h). */
const JOIN_WAIT_MS_MAX = 3_600_000

interface MemberCommandsInit {
  readonly keyPair: KeyPair
  readonly spaces: SpaceSet
  readonly writes: LocalWrites
  readonly driver: SyncDriver
  readonly network: Network
  readonly telemetry: NodeTelemetry
  readonly joinWaits: JoinWaits
  readonly inviteSweep: InviteSweep
  readonly ownJoins: OwnJoins
}

export interface JoinResult { id: string, name: string, role: Role | null, deployment: string }

/**
 * Spaces and membership as the user commands them (decisions 9 and 18):
 * create a space, invite, join with a token and wait for the inviter, grant
 * and revoke; and the deployment's status space that every invite carries,
 * whose owner promotes each new member to admin. Every write, the join
 * included, goes through LocalWrites to the sync driver.
 */
export class MemberCommands {
  readonly #init: MemberCommandsInit
  readonly #me: AuthorKey
  #running = false

  constructor (init: MemberCommandsInit) {
    this.#init = init
    this.#me = authorKeyOf(init.keyPair.publicKey)
  }

  /** On the network: expired invites are swept, and members that joined while we were away are promoted. */
  start (): void {
    this.#running = true
    this.#init.ownJoins.start()
    this.#init.inviteSweep.start()
    for (const key of this.#init.telemetry.deployment.keys) this.afterJoin(key)
  }

  stop (): void {
    this.#running = false
    this.#init.ownJoins.stop()
    this.#init.joinWaits.close()
    this.#init.inviteSweep.stop()
  }

  createSpace (name: string): { id: string, name: string } {
    checkSpaceName(name, 'a space name')
    // A second space of the same name would make the name useless everywhere a SPACE is asked (AMBIGUOUS_SPACE).
    const held = this.#init.spaces.list().find(s => s.name === name)
    if (held !== undefined) {
      const which = `a space named ${JSON.stringify(name)} (${held.id})`
      throw new NodeError('NAME_TAKEN', `this node already holds ${which}; choose another name, or use that space`)
    }
    const replica = this.#init.spaces.create(this.#init.keyPair, name, Date.now())
    this.#init.driver.spaceAdded(replica.key)
    return { id: replica.key, name }
  }

  invite (ref: string, role: GrantableRole, uses: number, expiresInMs: number): { token: string } {
    const replica = this.#init.spaces.byRef(ref)
    // Every node refuses an invite past INVITE_USES_MAX: refused here, before it or its deployment invite is signed.
    if (!Number.isSafeInteger(uses) || uses < 1 || uses > INVITE_USES_MAX) {
      throw new NodeError('BAD_INPUT', `the uses of an invite are a whole number from 1 to ${INVITE_USES_MAX}`)
    }
    const expiresMs = Date.now() + expiresInMs
    // An invite that has expired when it is made is a token no one can use: refused, as a wrong number of uses is.
    if (!Number.isSafeInteger(expiresInMs) || expiresInMs < 1 || expiresMs > TIME_MS_MAX) {
      throw new NodeError('BAD_INPUT', 'how long an invite is valid must be a whole number of milliseconds from 1 ' +
        `to ${TIME_MS_MAX - Date.now()} (give --expires as 7d, 12h or 30m)`)
    }
    checkInvite(replica, this.#me, role)
    const genesis: InviteToken['genesis'] = [replica.genesis.bytes, replica.genesis.sig]
    const issuer = this.#init.keyPair.publicKey
    const addrs = this.#tokenAddrs()
    const deploymentSpace = this.#deploymentSpace()
    // The token as it will be, but for its ids and keys (of fixed length): one a joiner would refuse is refused
    // here, before anything is written.
    const unset = new Uint8Array(32)
    const deploymentGenesis = deploymentSpace?.genesis
    encodeInviteToken({
      genesis, invite: unset, secret: unset, role, expiresMs, addrs, issuer,
      deployment: deploymentGenesis === undefined
        ? undefined
        : { genesis: [deploymentGenesis.bytes, deploymentGenesis.sig], invite: unset, secret: unset }
    })
    const inviteKey = generateKeyPair()
    const entry = this.#init.writes.write(replica, { t: 'invite', key: inviteKey.publicKey, role, uses, expiresMs })
    const deployment = deploymentSpace === undefined
      ? undefined
      : this.#deploymentInvite(deploymentSpace, uses, expiresMs)
    this.#init.inviteSweep.reschedule()
    const token = encodeInviteToken({
      genesis, invite: entry.id, secret: inviteKey.seed, role, expiresMs, addrs, deployment, issuer
    })
    return { token }
  }

  /**
   * The inviter's addresses a token carries (tokenAddrs).
   */
  #tokenAddrs (): string[] {
    return tokenAddrs(this.#init.network.addrs(), this.#init.network.peerId)
  }

  /**
   * Joins with a token and waits until the join takes effect (decision 18):
   * the inviter records its redemption and this node holds it. Otherwise it
   * fails with the inviter's reason, or INVITER_UNREACHABLE after `waitMs`
   * (the join is kept, across restarts too, and presented to every peer until
   * it takes effect; its deployment is joined then: own-joins.ts). `as`:
   * the space's name on this node; a join whose name another space held
   * here has already is refused (NAME_TAKEN), as `space create` is.
   */
  async join (token: string, waitMs = JOIN_WAIT_MS, as?: string): Promise<JoinResult> {
    if (!Number.isSafeInteger(waitMs) || waitMs < 0 || waitMs > JOIN_WAIT_MS_MAX) {
      throw new NodeError('BAD_INPUT', 'the wait for the inviter is 0 to 3,600,000 ms (up to 1h)')
    }
    if (as !== undefined) checkSpaceName(as, 'the local name (--as)')
    const t = decodeInviteToken(token)
    if (t.expiresMs < Date.now()) {
      const at = new Date(t.expiresMs).toISOString()
      throw new NodeError('EXPIRED_TOKEN', `this invite expired at ${at}; ask for a new one`)
    }
    this.#checkNameFree(t.genesis, as)
    const heldBefore = new Set(this.#init.spaces.list().map(s => s.id))
    const { ownJoins } = this.#init
    const issuer = t.issuer === undefined ? undefined : authorKeyOf(t.issuer)
    const space = ownJoins.join(t.genesis, t.invite, t.secret,
      { what: 'this invite\'s space', as, addrs: t.addrs, deployment: t.deployment, issuer })
    // Held again with a role and no join: the owner that left its space (its genesis makes its role) has it back.
    // A member whose join took effect with no deployment joined (before joins were kept) is missing only that.
    const member = space.join === null && heldBefore.has(space.replica.key)
    if (member && !this.#deploymentMissing(t.deployment)) {
      const role = space.replica.localRole(this.#me) ?? ''
      const name = this.#init.spaces.nameOf(space.replica)
      throw new NodeError('NO_CHANGE', `this node is already ${role} in space ${name}; nothing to join`)
    }
    type Joined = { replica: SpaceReplica, join: EntryId | null }
    const waitFor = async (j: Joined, deployment = false): Promise<JoinOutcome> => {
      const admitted = (): boolean => j.replica.localRole(this.#me) !== null
      return await this.#init.joinWaits.wait(j.replica.key, j.join, issuer, admitted, waitMs, deployment)
    }
    const admitted = waitFor(space)
    for (const addr of t.addrs) {
      try {
        await this.#init.network.dial(addr, true)
        break
      } catch {
        // Try the inviter's next address; it is also dialled again later.
      }
    }
    const outcome = await admitted
    const name = this.#init.spaces.nameOf(space.replica)
    if (!outcome.ok) throw joinError(outcome, name)
    // The deployment's join only once the space's took effect: a joiner that lost the race for the token's
    // uses never takes a use of the deployment invite from the one that won it.
    let joinedDeployment = 'none offered'
    // Its join may be written already, by the stored event that admitted us (own-joins.ts): then it is that one.
    if (t.deployment !== undefined) {
      try {
        const d = await waitFor(ownJoins.joinDeployment(t.deployment, t.addrs, issuer), true)
        // A member already, the deployment was all this command could join: its failure is the command's.
        if (!d.ok && member) throw deploymentNotJoined(d, space.replica.localRole(this.#me), name)
        joinedDeployment = d.ok ? 'joined' : `not joined: ${d.detail}`
      } catch (err) {
        // The space's join took effect: a disk that refused the deployment's says so here (tried again at the next
        // start, own-joins.ts), rather than failing a command whose join is done.
        if (!storageRefused(err)) throw err
        joinedDeployment = `not joined: ${(err as Error).message}`
      }
    }
    return { id: space.replica.key, name, role: space.replica.localRole(this.#me), deployment: joinedDeployment }
  }

  aclList (ref: string): { peerId: string, role: Role | null }[] {
    return this.#init.spaces.byRef(ref).aclList().map(m => ({ peerId: peerIdOf(fromHex(m.member)), role: m.role }))
  }

  grant (ref: string, peer: string, role: GrantableRole): void {
    const replica = this.#init.spaces.byRef(ref)
    this.#init.writes.write(replica, grantBody(replica, this.#me, memberKey(peer), role))
  }

  revoke (ref: string, peer: string): void {
    const replica = this.#init.spaces.byRef(ref)
    this.#init.writes.write(replica, revokeBody(replica, this.#me, memberKey(peer), Date.now()))
  }

  /** After a join or a redemption: the deployment's owner promotes the new member (see #promoteDeployment). */
  afterJoin (space: SpaceKey): void {
    if (!this.#running) return
    try {
      this.#promoteDeployment(space)
    } catch (err) {
      if (!(err instanceof NodeError)) throw err // our role changed under us: the next join tries again
    }
  }

  /**
   * The name the invite's space would have here (`as`, else its own) is not that of another space held here
   * (NAME_TAKEN, naming --as); and a space held here already, its join waiting, keeps its name (adopt), so an `as`
   * of another name is refused rather than dropped. A genesis that does not decode is left to adopt(), which says so.
   */
  #checkNameFree (genesis: InviteToken['genesis'], as: string | undefined): void {
    const own = genesisSpace(genesis)
    if (own === undefined) return
    const waiting = this.#init.spaces.get(own.key)
    if (as !== undefined && waiting !== undefined && waiting.localRole(this.#me) === null) {
      const current = this.#init.spaces.nameOf(waiting)
      if (current !== as) {
        throw new NodeError('BAD_INPUT', `this node holds this invite's space already, as ${JSON.stringify(current)} ` +
          `(its join waits for the inviter), and a held space keeps its name: join again without --as, or leave it ` +
          `first (samepage space leave ${current}) to join it under another name`)
      }
    }
    const name = as ?? own.name
    const held = this.#init.spaces.list().find(s => s.name === name && s.id !== own.key)
    if (held === undefined) return
    const which = `a space named ${JSON.stringify(name)} (${held.id})`
    const fix = as === undefined
      ? `join this one under a name of its own on this node: samepage space join TOKEN --as OTHER-NAME`
      : 'choose another name for --as'
    throw new NodeError('NAME_TAKEN', `this node already holds ${which}; ${fix}`)
  }

  /** A token's deployment status space that this node holds no role in (not held, or its join still waits). */
  #deploymentMissing (deployment: InviteToken['deployment']): boolean {
    if (deployment === undefined) return false
    const key = genesisSpace(deployment.genesis)?.key
    const held = key === undefined ? undefined : this.#init.spaces.get(key)
    return held === undefined || held.localRole(this.#me) === null
  }

  /**
   * The invite to this node's deployment status space that every token
   * carries: admin from the space's owner, writer from an admin (the most it
   * may grant; the owner's node promotes it later, see #promoteDeployment),
   * so that every node invited by any member joins the deployment. The first
   * invite of a node in no deployment creates the space; a node that is in
   * one without authority there carries none (a new space would split it).
   */
  /** The deployment status space whose invite a token carries (made at the first invite), or none to offer. */
  #deploymentSpace (): SpaceReplica | undefined {
    const { spaces, telemetry } = this.#init
    const held = telemetry.deployment.keys.map(k => spaces.get(k)).filter(r => r !== undefined)
    const replica = held.find(r => deploymentInviteRole(r, this.#me) === 'admin') ??
      held.find(r => deploymentInviteRole(r, this.#me) !== undefined)
    if (replica !== undefined || held.length > 0) return replica
    const made = spaces.create(this.#init.keyPair, DEPLOYMENT_SPACE_NAME, Date.now())
    try {
      telemetry.joined(made.key) // saved as the deployment's (deployment.json) before anything syncs it
    } catch (err) {
      // Not saved as the deployment's, it would be held as a data space named samepage-status from the next start.
      spaces.discard(made.key)
      throw err
    }
    this.#init.driver.spaceAdded(made.key)
    return made
  }

  #deploymentInvite (replica: SpaceReplica, uses: number, expiresMs: number): InviteToken['deployment'] {
    const role = deploymentInviteRole(replica, this.#me) as GrantableRole
    const key = generateKeyPair()
    const entry = this.#init.writes.write(replica, { t: 'invite', key: key.publicKey, role, uses, expiresMs })
    return { genesis: [replica.genesis.bytes, replica.genesis.sig], invite: entry.id, secret: key.seed }
  }

  /**
   * The deployment status spaces this node owns: every member below admin is made admin, so it can invite on
   * (decision 18).
   */
  #promoteDeployment (space: SpaceKey): void {
    const replica = this.#init.spaces.get(space)
    if (replica === undefined || !this.#init.telemetry.deployment.has(space)) return
    for (const member of deploymentPromotions(replica, this.#me)) {
      this.#init.writes.write(replica, { t: 'acl.grant', member, role: 'admin', from: { epoch: 0, seq: 0 } })
    }
  }
}

/**
 * `space join` again by a member of the token's space, to join only the deployment status space the token carries,
 * which did not take effect: the error a first join gets in that state (INVITER_UNREACHABLE while the join is kept,
 * or the issuer's refusal), saying that the space is joined already and only the deployment is missing.
 */
function deploymentNotJoined (d: Exclude<JoinOutcome, { ok: true }>, role: Role | null, name: string): NodeError {
  const e = joinError(d, JSON.stringify(DEPLOYMENT_SPACE_NAME))
  return new NodeError(e.code, `this node is ${role ?? 'no member'} in space ${name} already; only the ` +
    `deployment status space of this invite was missing: ${e.message}`)
}

/** The name and id of the space a genesis makes; undefined if it does not decode (adopt() then says why). */
function genesisSpace (genesis: InviteToken['genesis']): { name: string, key: SpaceKey } | undefined {
  try {
    const g = decodeGenesis(genesis[0], genesis[1])
    return { name: g.name, key: spaceKeyOf(g.cid) }
  } catch (err) {
    if (isCodecError(err)) return undefined
    throw err
  }
}

/** A space's name, given (create) or local (join --as): 1 to 256 bytes, not blank, not a space id. */
function checkSpaceName (name: string, what: string): void {
  if (name.trim() === '' || Buffer.byteLength(name) > SPACE_NAME_BYTES_MAX) {
    throw new NodeError('BAD_INPUT', `${what} is 1 to 256 bytes`)
  }
  if (isSpaceKey(name)) throw new NodeError('BAD_INPUT', `${what} cannot be a space id (it would name another space)`)
  // Every other member sees the name with such a character as U+FFFD (a bidi override makes it read other than it is).
  const unsafe = unsafeCharIn(name)
  if (unsafe !== undefined) {
    const why = 'a control or bidirectional character'
    throw new NodeError('BAD_INPUT', `${what} holds ${unsafe}, ${why}: choose one without it`)
  }
}

function memberKey (peer: string): Uint8Array {
  const pub = publicKeyFromPeerId(peer)
  if (pub === undefined) {
    const shown = JSON.stringify(peer.slice(0, 80))
    const hint = 'see samepage peers or samepage id on that node'
    throw new NodeError('BAD_PEER', `${shown} is not a peer id (12D3KooW…); ${hint}`)
  }
  return pub
}
