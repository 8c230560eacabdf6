export interface MisbehaviourRecord {
  peer: string
  reason: string
  points: number
  score: number
  atMs: number
  disconnected: boolean
}

/** Records kept: the oldest go first. */
const MISBEHAVIOUR_LOG_MAX = 1000

/**
 * What peers did wrong and who was disconnected, newest last, for
 * `samepage misbehaviour` and the status report: filled from the sync
 * engine's events (the engine keeps no log of its own for the node to read).
 */
export class MisbehaviourLog {
  /** The records themselves (the node shows this array as `node.misbehaviour`). */
  readonly records: MisbehaviourRecord[] = []

  add (rec: MisbehaviourRecord): void {
    this.records.push(rec)
    if (this.records.length > MISBEHAVIOUR_LOG_MAX) this.records.shift()
  }

  /** The last few worth reporting to the deployment: misbehaviour, and disconnections that cost points. */
  recent (): { peer: string, reason: string, points: number, atMs: number }[] {
    return this.records.filter(m => !m.disconnected || m.points > 0).slice(-8)
      .map(m => ({ peer: m.peer, reason: m.reason, points: m.points, atMs: m.atMs }))
  }
}
