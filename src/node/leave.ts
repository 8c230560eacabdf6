import type { SyncDriver } from '../net/index.ts'
import type { SpaceReplica } from '../space/index.ts'
import type { Role, SignedStatus } from '../codec/index.ts'
import type { AuthorKey } from '../ids/index.ts'
import type { SqliteStore } from '../store/index.ts'
import type { DeploymentSpaces } from './deployment.ts'
import { NodeError } from './errors.ts'
import type { Folders } from './folders.ts'
import type { JoinWaits } from './join-wait.ts'
import type { OwnJoins } from './own-joins.ts'
import type { OwnFeedWatch } from './own-feed.ts'
import { storageUserError } from './storage-health.ts'
import type { SpaceSet } from './space-set.ts'
import type { NodeTelemetry } from './telemetry.ts'
import type { LocalWrites } from './writes.ts'

/**
 * `samepage space leave`: this node stops holding a space, as removing a
 * folder from Syncthing or a core from Hypercore does. Its folder in the
 * space stops syncing (the files stay on disk), the engine forgets the
 * space (nothing of it is pulled, served, announced or gossiped), the
 * store's rows of it are removed in one durable commit (so nothing comes
 * back at the next start, and a later join with a new invite starts from
 * nothing), its local name goes, peers that were members of no other space
 * held here leave peers.json, and the status report stops listing it. This
 * node's own entries that come back after a new join are expected, not
 * reported as a restored data directory (for the life of the process).
 *
 * The connected members are told, by a leave notice (space/leave-notice.ts:
 * a status record of ours in the space, signed before the rows go, pushed to
 * them once they are gone, and passed on by them to members that were
 * away). No right changes: the ACL has no rule by which a member revokes
 * itself (decision 5: only the owner and admins issue revokes), so they
 * still list this node until an admin revokes it. What they send about the
 * space is dropped unread.
 *
 * A leave is refused unless forced while this node's own entries in the
 * space have reached no connected member (they would be gone with the rows;
 * an admin grant among them would leave nobody to manage the space). The
 * last one who can manage members (the owner, or an admin when no other
 * member is admin) is refused unless forced: after it leaves nobody can
 * invite or grant in the space again, this node included (coming back needs
 * an invite); when it is the only member, the space's data is gone for good.
 * A member whose leave notice is held here counts as gone for both: it
 * neither manages the space nor holds its data any more.
 */
export interface LeaveResult {
  readonly id: string
  readonly name: string
  /** The folder that was bound to the space: no longer synced, its files untouched (null: none was). */
  readonly folder: string | null
  /**
   * This node's invites to the space that could still admit someone: only their issuer admits (decision 18), so
   * their joiners now wait for an answer that never comes, and need an invite from another member.
   */
  readonly unansweredInvites: number
  /** Connected members the leave notice was sent to (0 with none connected, or with no role left to say it). */
  readonly toldMembers: number
}

interface SpaceLeaveInit {
  readonly me: AuthorKey
  readonly spaces: SpaceSet
  readonly deployment: DeploymentSpaces
  readonly folders: Folders
  readonly writes: LocalWrites
  readonly driver: SyncDriver
  readonly store: SqliteStore
  /** Peers that are members of no space held here any more leave peers.json and the network's redial schedule. */
  readonly forgetNonMembers: () => void
  readonly joinWaits: JoinWaits
  /** Our join of the space, kept until it takes effect: a space left has none to present. */
  readonly ownJoins: OwnJoins
  readonly telemetry: NodeTelemetry
  readonly ownFeeds: OwnFeedWatch
}

export class SpaceLeave {
  readonly #init: SpaceLeaveInit

  constructor (init: SpaceLeaveInit) {
    this.#init = init
  }

  async leave (ref: string, force: boolean): Promise<LeaveResult> {
    const { spaces, folders, writes, driver, store } = this.#init
    const replica = spaces.byRef(ref)
    const name = spaces.nameOf(replica)
    if (this.#init.deployment.has(replica.key)) {
      throw new NodeError('NOT_ALLOWED', `${replica.key} is the deployment's status space, not a space of yours: ` +
        'it carries the nodes\' status reports and is left only with the whole deployment')
    }
    const refusal = force ? undefined : lastManagerRefusal(replica, this.#init.me, name)
    if (refusal !== undefined) throw new NodeError('LAST_ADMIN', refusal)
    const unsent = force ? 0 : this.#init.driver.unsentOwn(replica.key)
    if (unsent > 0) throw new NodeError('UNSENT_WRITES', unsentRefusal(unsent, name))
    const folder = folders.get(replica.key)?.path ?? null
    if (folder !== null) await folders.remove(replica.key)
    // The folder's stop was the one wait: from here on nothing else runs until the space is gone.
    const unansweredInvites = replica.acl.unusedInvites(this.#init.me, Date.now())
    if (spaces.get(replica.key) !== replica) return { id: replica.key, name, folder, unansweredInvites, toldMembers: 0 }
    writes.flush() // writes acknowledged or waiting for their group are committed, never dropped half-way
    const notice = this.#leaveNotice(replica)
    try {
      spaces.leaving(replica) // its highest own epoch kept on disk, for a rejoin (left-epochs.ts)
      store.removeSpace(replica.key) // first: if the disk refuses, the space is still held, whole
    } catch (err) {
      throw storageUserError(err) ?? err // a full or failing disk is the user's to hear of, not INTERNAL
    }
    // Only once the rows are gone: a leave the disk refused has told nobody.
    const toldMembers = notice === undefined ? 0 : driver.pushLeaveNotice(replica.key, notice)
    spaces.remove(replica.key)
    driver.spaceRemoved(replica.key)
    this.#init.joinWaits.left(replica.key)
    this.#init.ownJoins.forget(replica.key)
    this.#init.ownFeeds.left(replica.key) // our entries coming back after a new join are no sign of a restore
    this.#init.forgetNonMembers()
    this.#init.telemetry.holdingsChanged()
    return { id: replica.key, name, folder, unansweredInvites, toldMembers }
  }

  /** The leave notice, signed while the rows that hold our clock are there; undefined when we have no role left. */
  #leaveNotice (replica: SpaceReplica): SignedStatus | undefined {
    // Revoked: nobody counts this node as a manager or a holder, and a member refuses its records.
    if (replica.acl.currentRole(this.#init.me) === null) return undefined
    return this.#init.driver.signLeaveNotice(replica.key)
  }
}

/** Why a node may not leave without --force while its own writes have reached no member (their only copy). */
function unsentRefusal (unsent: number, name: string): string {
  return `${unsent} ${unsent === 1 ? 'entry' : 'entries'} this node wrote in space ${name} ` +
    'no connected member has shown it holds: leaving deletes their only copy; leave once a member that has them ' +
    `is connected (samepage peers), or anyway: samepage space leave ${name} --force`
}

/** Why `me` may not leave without --force: it is the last member who can invite or grant in the space. */
export function lastManagerRefusal (replica: SpaceReplica, me: AuthorKey, name: string): string | undefined {
  const role = replica.acl.currentRole(me)
  if (role !== 'owner' && role !== 'admin') return undefined
  const others = replica.aclList().filter(m => m.role !== null && m.member !== me)
  // A member whose node said it left (its leave notice) manages nothing and holds nothing here any more.
  const gone = replica.saidTheyLeft(others.map(m => m.member))
  const staying = others.filter(m => !gone.has(m.member))
  const manages = (m: { role: Role | null }): boolean => m.role === 'owner' || m.role === 'admin'
  if (staying.some(manages)) return undefined
  const force = `samepage space leave ${name} --force`
  if (staying.length === 0) {
    const left = others.length === 0 ? '' : ` (${saidLeft(others.length, 'member')})`
    return `this node is the only member of space ${name}${left}: leaving deletes its data for good; ` +
      `to do so anyway: ${force}`
  }
  const managersGone = others.filter(manages).length
  const left = managersGone === 0 ? '' : ` (${saidLeft(managersGone, 'admin')})`
  return `this node is the ${role} of space ${name} and no other member is admin${left}: after it leaves, nobody ` +
    `can invite or grant there again; first make another member admin (samepage acl grant ${name} PEER admin), ` +
    `or leave anyway: ${force}`
}

function saidLeft (n: number, what: string): string {
  return n === 1 ? `the other ${what} said it left` : `${n} other ${what}s said they left`
}
