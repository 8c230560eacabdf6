import { INVITE_KEEP_MAX } from '../codec/index.ts'
import type { AuthorKey } from '../ids/index.ts'
import { NodeError } from './errors.ts'
import type { SpaceSet } from './space-set.ts'
import type { LocalWrites } from './writes.ts'

/** Invites issued by others expire without telling us: look for expired ones at least this often. */
const INVITE_SWEEP_MS = 60_000

interface InviteSweepInit {
  readonly spaces: SpaceSet
  readonly writes: LocalWrites
  /** This node's author key (hex). */
  readonly me: AuthorKey
}

/**
 * Decision 9: admins' nodes revoke the invites that have expired, keeping
 * the joins they hold for them, so that no join made later counts
 * anywhere. Runs at start, at the next expiry of an invite it may revoke,
 * and every INVITE_SWEEP_MS for invites it learns of from others.
 */
export class InviteSweep {
  readonly #init: InviteSweepInit
  #timer: NodeJS.Timeout | undefined
  #running = false

  constructor (init: InviteSweepInit) {
    this.#init = init
  }

  start (): void {
    this.#running = true
    this.#sweep()
  }

  stop (): void {
    this.#running = false
    clearTimeout(this.#timer)
  }

  /** An invite was issued here: its expiry may be the next one due. */
  reschedule (): void {
    if (this.#running) this.#schedule()
  }

  #sweep (): void {
    const { spaces, writes, me } = this.#init
    const now = Date.now()
    for (const replica of spaces.all()) {
      // Only its own: their issuer knows every redemption, so its revoke keeps them all (no joiner is displaced).
      for (const due of replica.acl.expiredInvites(me, now).filter(i => i.issuer === me)) {
        // More joins redeemed than one revoke can keep: revoked, the rest would lose their membership everywhere.
        // Left open, it admits nobody more all the same: only its issuer (this node) redeems, and never once expired.
        if (due.redeemed > INVITE_KEEP_MAX) continue
        try {
          writes.write(replica, { t: 'invite.revoke', invite: due.invite, keep: [...due.keep] })
        } catch (err) {
          if (!(err instanceof NodeError)) throw err // our role changed under us: the next sweep sees it
        }
      }
    }
    this.#schedule()
  }

  #schedule (): void {
    clearTimeout(this.#timer)
    const now = Date.now()
    let next = now + INVITE_SWEEP_MS
    for (const replica of this.#init.spaces.all()) {
      // Only expiries to come: one past and still open (too many joins to revoke, or a revoke refused) waited on its
      // expiry, already gone, so the sweep ran back to back for as long as the daemon ran (a review's probe).
      for (const open of replica.acl.openInvites(this.#init.me)) {
        if (open.expiresMs >= now) next = Math.min(next, open.expiresMs + 1)
      }
    }
    this.#timer = setTimeout(() => { this.#sweep() }, Math.max(0, next - now))
    this.#timer.unref()
  }
}
