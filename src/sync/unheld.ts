import { fromHex } from '../codec/index.ts'
import type { StatusHead } from '../codec/index.ts'
import type { SpaceReplica } from '../space/index.ts'
import type { ClaimBudget } from './claims.ts'
import type { FeedPulls } from './pulls.ts'
import type { Session, SharedSpace } from './session.ts'
import type { StatusGossip, StatusSpace } from './status-gossip.ts'
import { isMember } from './types.ts'
import type { Send } from './types.ts'

/** A peer's sharing of a space, now that the ACL admits it. */
interface Admitted {
  readonly session: Session
  readonly shared: SharedSpace
  readonly replica: SpaceReplica
  readonly view: StatusSpace
}

/** The parts that take what it showed, and the budget its slots come back to. */
interface Parts {
  readonly pulls: FeedPulls
  readonly status: StatusGossip
  readonly unheldClaims: ClaimBudget
}

/**
 * What a peer showed while it was no member here (our ACL was behind, or it joined since; session.ts SharedSpace),
 * taken once the ACL admits it (SyncCore.onAclChanged, which plans its feeds next), as if its hello came now: its
 * feed rows learnt, so that it is pulled from at once, not at its next write; the status records it sent of authors
 * the ACL now admits, asked of it again. Their unheld slots come back (what is learnt takes the members' budget).
 */
export function takeUnheld (admitted: Admitted, parts: Parts, nowMs: number): Send[] {
  const { session, shared, replica, view } = admitted
  const out: Send[] = []
  const rows = shared.takeUnheldFeeds()
  parts.unheldClaims.give(session.peer, rows.length)
  for (const row of rows) {
    const fk = shared.learn(row, true)
    if (fk !== undefined) out.push(...parts.pulls.probeIfDiverged(session, replica, shared, fk, nowMs))
  }
  const heads: StatusHead[] = []
  for (const [author, stamp] of shared.unheldStatus) {
    if (!isMember(replica, author)) continue
    shared.unheldStatus.delete(author)
    heads.push({ author: fromHex(author), ...stamp })
  }
  if (heads.length === 0) return out
  parts.unheldClaims.give(session.peer, heads.length)
  const from = { peer: session.peer, known: shared.statusKnown }
  out.push(...parts.status.announced(view, from, heads, nowMs))
  return out
}
