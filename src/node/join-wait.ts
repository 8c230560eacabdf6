import type { AuthorKey, EntryId, SpaceKey } from '../ids/index.ts'
import { printable } from '../ids/index.ts'
import { DEAD_TOKEN_REFUSALS } from '../space/index.ts'

/**
 * `space join` waits here until its join takes effect (decision 18): the
 * invite's issuer recorded the redemption and this node holds it (its role
 * in the space is no longer null), or the issuer refused it, or the time is
 * up. An answer is believed only from the invite's issuer. Another member's
 * 'waiting', or its word that the invite can admit nobody any more (revoked,
 * expired, every use taken: DEAD_TOKEN_REFUSALS, which an honest member gives
 * only as the issuer would), is kept to say why if the time runs out: the
 * joiner holds no member list yet, so any peer that knows the space could say
 * it, and a lie must not end a join the issuer would still admit.
 */
export type JoinOutcome =
  | { readonly ok: true }
  | { readonly ok: false, readonly reason: string, readonly detail: string }

interface Wait {
  readonly space: SpaceKey
  readonly join: EntryId | null
  readonly issuer: AuthorKey | undefined
  readonly admitted: () => boolean
  readonly resolve: (o: JoinOutcome) => void
  readonly timer: NodeJS.Timeout
  /** A join of the deployment's status space: kept too, but `space list` does not list that space. */
  readonly deployment: boolean
  heard: 'nothing' | 'waiting' | 'redeemed'
  /** A member's word that the invite can admit nobody any more: the reason given if the time runs out. */
  memberRefusal?: { readonly reason: string, readonly detail: string }
}

export class JoinWaits {
  readonly #waits = new Set<Wait>()

  /**
   * Resolves when `admitted()` holds (checked now and at each `stored`), on the issuer's refusal, or after
   * `timeoutMs`. `deployment`: the join is of a token's deployment status space (what its failure says differs).
   */
  async wait (
    space: SpaceKey, join: EntryId | null, issuer: AuthorKey | undefined, admitted: () => boolean, timeoutMs: number,
    deployment = false
  ): Promise<JoinOutcome> {
    if (admitted()) return { ok: true }
    return await new Promise<JoinOutcome>(resolve => {
      const w: Wait = {
        space,
        join,
        issuer,
        admitted,
        deployment,
        heard: 'nothing',
        resolve: o => { clearTimeout(w.timer); this.#waits.delete(w); resolve(o) },
        timer: setTimeout(() => w.resolve(timedOut(w, timeoutMs)), timeoutMs)
      }
      this.#waits.add(w)
    })
  }

  /** Entries of `space` were stored here: a wait whose join now counts is done. */
  stored (space: SpaceKey): void {
    for (const w of [...this.#waits]) if (w.space === space && w.admitted()) w.resolve({ ok: true })
  }

  /** A peer's answer to our join; true when it was the refusal a waiting `space join` ends with (it says why). */
  answered (space: SpaceKey, join: EntryId, from: string, outcome: string, detail: string): boolean {
    let told = false
    // A peer's words, for the user's error: cut and printable (one line that says what it holds).
    const refused = { ok: false, reason: printable(outcome, 32), detail: printable(detail, 200) } as const
    for (const w of [...this.#waits]) {
      if (w.space !== space || w.join !== join) continue
      if (outcome === 'waiting') {
        if (w.heard === 'nothing') w.heard = 'waiting'
      } else if (w.issuer === undefined || from === w.issuer) {
        // 'already-member': the issuer holds our role from before this store knew it (we left the space, and join
        // again with a new invite): it arrives by catch-up like a redemption, and admits us then.
        if (outcome === 'redeemed' || outcome === 'already-member') w.heard = 'redeemed'
        else { w.resolve(refused); told = true }
      } else if (DEAD_TOKEN_REFUSALS.includes(outcome)) {
        w.memberRefusal = refused
      }
    }
    return told
  }

  /** The node left the space: a join of it still waiting ends. */
  left (space: SpaceKey): void {
    const left = { ok: false, reason: 'left', detail: 'this node left the space before the join took effect' } as const
    for (const w of [...this.#waits]) if (w.space === space) w.resolve(left)
  }

  /** The node stops: nobody waits any longer. */
  close (): void {
    const detail = 'the daemon stopped before the join took effect; the join is kept, and presented again once the ' +
      'daemon runs'
    for (const w of [...this.#waits]) w.resolve({ ok: false, reason: 'stopped', detail: `${detail}${shownIn(w)}` })
  }
}

function timedOut (w: Wait, timeoutMs: number): JoinOutcome {
  const s = Math.round(timeoutMs / 1000)
  const again = 'the join is kept (across restarts too) and presented again whenever the inviter is reachable' +
    shownIn(w)
  const said = w.memberRefusal
  if (said !== undefined && w.heard !== 'redeemed') {
    return {
      ok: false,
      reason: said.reason,
      detail: `${said.detail} (so says a peer that holds the space, not the inviter, which did not answer within ` +
        `${s} s; ${again})`
    }
  }
  switch (w.heard) {
    case 'redeemed': return {
      ok: false,
      reason: 'not-synced',
      detail: `the inviter admitted this node but its record did not arrive within ${s} s; ` +
        `it arrives with the next sync${w.deployment ? '' : ' (see samepage space list)'}`
    }
    case 'waiting': return {
      ok: false,
      reason: 'inviter-unreachable',
      detail: `only the inviter can admit this node, and it was not reachable within ${s} s ` +
        `(a member holds the join for it); ${again}`
    }
    default: return {
      ok: false,
      reason: 'inviter-unreachable',
      detail: `the inviter did not answer within ${s} s; ${again}`
    }
  }
}

/** Where the operator sees a kept join wait: `space list`, which lists no deployment status space. */
function shownIn (w: Wait): string {
  return w.deployment ? ', and takes effect then with no other command' : '; samepage space list shows it waiting'
}
