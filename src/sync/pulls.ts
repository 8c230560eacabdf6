import { bytesEqual, decodeEntry, ENTRY_BYTES_MAX, fromHex, RUN_BYTES_MAX, toHex } from '../codec/index.ts'
import type { FeedRange } from '../codec/index.ts'
import type { FeedPosition, SpaceReplica } from '../space/index.ts'
import type { AuthorKey, SpaceKey } from '../ids/index.ts'
import type { ForkProof } from '../store/index.ts'
import { AskedRanges } from './asked.ts'
import type { Ask } from './asked.ts'
import { preferredSource } from './claims.ts'
import {
  PROBE_BACK_ENTRIES, PULL_BYTES_PER_PEER_MAX, REQUEST_TIMEOUT_MS, WANT_WINDOW_BYTES,
  WANT_WINDOW_ENTRIES
} from './constants.ts'
import { feedKey, parseFeedKey, TupleMap } from './keys.ts'
import type { FeedKey } from './keys.ts'
import type { Session, SharedSpace } from './session.ts'
import type { SyncStats } from './stats.ts'
import { isMember } from './types.ts'
import type { Send, SpaceDirectory } from './types.ts'

/**
 * Feed pulls: what this node asks its neighbours for, and of whom. Each
 * feed is pulled from one peer at a time (the fullest, then the longest
 * connected), in windows of WANT_WINDOW_ENTRIES; a pull that gets no
 * progress for REQUEST_TIMEOUT_MS, or a `none`, is asked of another. What
 * the answers of one peer's open pulls can weigh is bounded by
 * PULL_BYTES_PER_PEER_MAX: a pull that does not fit waits for room. Each
 * want sent (a pull's, each send of a fork probe) is recorded as it is sent,
 * and the rest of its answer counts as asked for whenever it comes
 * (asked.ts); only a run inside the open pull's range is progress of it.
 *
 * Owns no session and sends nothing itself: each method returns the wants
 * to send. Never imports the engine.
 */
interface Request {
  readonly peer: AuthorKey
  readonly from: number
  readonly to: number
  deadline: number
  readonly tried: ReadonlySet<AuthorKey>
  /** Entry bytes received for it so far: the answer ends at `to` or at WANT_WINDOW_BYTES. */
  bytes: number
  /** What its answer can weigh at most, reserved from the peer's PULL_BYTES_PER_PEER_MAX. */
  readonly worstBytes: number
  /** Its answer, as expected from the peer. */
  readonly ask: Ask
}

/** An entry on the wire at most: its bytes, its signature and the framing around them. */
const ENTRY_WIRE_BYTES_MAX = ENTRY_BYTES_MAX + 128
/**
 * Times a fork probe is asked of its peer when it goes unanswered (a node past its serve budget leaves a want
 * unanswered, serve-budget.ts): a divergence probed once and lost would stay unproven while the link lasts.
 */
const PROBE_ASKS_MAX = 5
/** Botched positions a link is asked for valid copies of (askCopies), at most. */
const COPIES_ASKED_MAX = 64

/** A fork probe sent: asked again at its deadline, up to PROBE_ASKS_MAX times, until it is answered. */
interface Probe {
  deadline: number
  readonly send: Send
  readonly to: number
  /** The answer owed for each send, in the order sent. */
  readonly sent: Ask[]
}

/** The most a pull of `count` entries can bring (the server stops after the run that reaches WANT_WINDOW_BYTES). */
function pullWorstBytes (count: number): number {
  return Math.min(count * ENTRY_WIRE_BYTES_MAX, WANT_WINDOW_BYTES + RUN_BYTES_MAX + 1024 * 128)
}

export class FeedPulls {
  readonly #spaces: SpaceDirectory
  readonly #sessions: ReadonlyMap<AuthorKey, Session>
  readonly #stats: SyncStats
  readonly #requests = new TupleMap<[SpaceKey, FeedKey], Request>()
  /** Per peer: the worst-case bytes of its open pulls, and the pulls that wait for it to have room. */
  readonly #pullBytes = new Map<AuthorKey, number>()
  readonly #waiting = new Map<AuthorKey, TupleMap<[SpaceKey, FeedKey], true>>()
  readonly #probes = new TupleMap<[AuthorKey, SpaceKey, FeedKey, number], Probe>()
  /** Wants whose answers have not wholly come: their runs are honest duplicates, never replays. */
  readonly #asked = new AskedRanges()

  constructor (spaces: SpaceDirectory, sessions: ReadonlyMap<AuthorKey, Session>, stats: SyncStats) {
    this.#spaces = spaces
    this.#sessions = sessions
    this.#stats = stats
  }

  /** Pull a feed from one peer that holds more of it than we do (the fullest, then the longest connected). */
  plan (space: SpaceKey, fk: FeedKey, nowMs: number, tried: ReadonlySet<AuthorKey> = new Set()): Send[] {
    if (this.#requests.has([space, fk])) return []
    const replica = this.#spaces.get(space)
    if (replica === undefined) return []
    const { author, epoch } = parseFeedKey(fk)
    const ours = replica.resumeAt(author, epoch)
    const limit = replica.pullLimit(author, epoch)
    if (ours >= limit) return []
    // Entries of this feed wait in the pending queue (clock ahead, grant missing): pull no more until they are
    // stored, or we would fetch what the bounded queue must forget, again and again (the retry re-plans).
    if (ours > (replica.feedRow(author, epoch)?.count ?? 0)) return []
    let best: { session: Session, count: number, tried: boolean, unanswered: number } | undefined
    for (const session of this.#sessions.values()) {
      const count = Math.min(limit, session.spaces.get(space)?.known.get(fk) ?? 0)
      if (count <= ours) continue
      const c = { session, count, tried: tried.has(session.peer), unanswered: session.unanswered }
      if (best === undefined || preferredSource(c, best)) best = c
    }
    if (best === undefined) return []
    const to = Math.min(best.count, ours + WANT_WINDOW_ENTRIES)
    const worstBytes = pullWorstBytes(to - ours)
    const peer = best.session.peer
    const reserved = this.#pullBytes.get(peer) ?? 0
    if (reserved > 0 && reserved + worstBytes > PULL_BYTES_PER_PEER_MAX) {
      // Its answers could overrun what we let one peer have in flight: wait for one of its pulls to end.
      let waiting = this.#waiting.get(peer)
      if (waiting === undefined) this.#waiting.set(peer, waiting = new TupleMap())
      waiting.set([space, fk], true)
      return []
    }
    const range: FeedRange = { author: fromHex(author), epoch, from: ours, to }
    const deadline = nowMs + REQUEST_TIMEOUT_MS
    // Every source was tried already (the best one too): a fresh round of tries starts.
    const fresh = best.tried ? new Set<AuthorKey>() : tried
    const ask = this.#asked.add(peer, space, fk, ours, to)
    this.#requests.set([space, fk], { peer, from: ours, to, deadline, tried: fresh, bytes: 0, worstBytes, ask })
    this.#pullBytes.set(peer, reserved + worstBytes)
    return [{ peer, msg: { m: 'want', space: replica.id, ranges: [range] } }]
  }

  /**
   * Whether a run of `fk` from `peer` (`length` entries of `bytes` entry bytes from `seq`) was asked for: part of the
   * answer to a want of ours (a pull's, a probe's) not yet wholly answered (asked.ts), the start of a listed probe's
   * answer, or anything of the feed while a pull of it from that peer is open.
   */
  asked (peer: AuthorKey, space: SpaceKey, fk: FeedKey, seq: number, length: number, bytes: number,
    nowMs: number): boolean {
    const answer = this.#asked.take(peer, space, fk, seq, length, bytes)
    const probe = this.#probes.get([peer, space, fk, seq])
    // The probe is answered: not asked again; the answers to its other sends (an honest server answers each, in the
    // order sent) are still expected for a while.
    if (probe !== undefined && this.#probes.delete([peer, space, fk, seq])) this.#asked.settle(nowMs, ...probe.sent)
    return answer || probe !== undefined || this.#requests.get([space, fk])?.peer === peer
  }

  /** Whether `peer` is the one our open pull of `fk` asked. */
  isPulling (peer: AuthorKey, space: SpaceKey, fk: FeedKey): boolean {
    return this.#requests.get([space, fk])?.peer === peer
  }

  /**
   * A run from `seq` came from `peer`: if our open pull of `fk` asked it for that range, the pull goes on (its
   * deadline moved) or, at its end (`reached` its top, its bytes, or `ended` by a rejection, divergence or fork), the
   * feed is planned again. A run below the range answers an earlier want (counted, it closed each pull early).
   */
  progress (peer: AuthorKey, space: SpaceKey, fk: FeedKey, seq: number, reached: number, bytes: number,
    ended: boolean, nowMs: number): Send[] {
    const req = this.#requests.get([space, fk])
    if (req?.peer !== peer || seq < req.from || seq >= req.to) return []
    req.bytes += bytes
    if (reached < req.to && req.bytes < WANT_WINDOW_BYTES && !ended) {
      req.deadline = nowMs + REQUEST_TIMEOUT_MS
      return []
    }
    this.#close(space, fk, nowMs)
    return [...this.plan(space, fk, nowMs), ...this.planWaiting(peer, nowMs)]
  }

  /** The peer answered `none` for a range of `fk` starting at `from`: asked of another if it was our pull. */
  none (session: Session, space: SpaceKey, fk: FeedKey, from: number, nowMs: number): Send[] {
    const req = this.#requests.get([space, fk])
    const probe = this.#probes.get([session.peer, space, fk, from])
    // The answer to a probe only (a pull of that feed from that peer may be open beside it, for another range): the
    // probe ends, the pull goes on (closed and planned again, its range was asked twice, and the second answer
    // charged to an honest server as a replay).
    if (probe !== undefined && (req?.peer !== session.peer || req.from !== from)) {
      this.#asked.answered(session.peer, space, fk, ...probe.sent)
      this.#giveUp(probe, nowMs)
      return []
    }
    // It does not hold what a probe of that feed asked either: not asked again.
    for (const [key, other] of this.#probes.entries()) {
      if (key[0] === session.peer && key[1] === space && key[2] === fk) this.#giveUp(other, nowMs)
    }
    // A `none` to an earlier want of that feed (a range it no longer holds) says nothing of the open one.
    if (req?.peer !== session.peer || req.from !== from) return []
    session.unanswered++
    this.#asked.answered(session.peer, space, fk, req.ask)
    this.#close(space, fk, nowMs)
    const tried = new Set([...req.tried, session.peer])
    return [...this.plan(space, fk, nowMs, tried), ...this.planWaiting(session.peer, nowMs)]
  }

  /** Pulls that made no progress by their deadline: asked of another peer; late answers stay honest for a while. */
  tick (nowMs: number): Send[] {
    this.#asked.expire(nowMs)
    const out: Send[] = this.#probesDue(nowMs)
    for (const [[space, fk], req] of [...this.#requests.entries()]) {
      if (req.deadline > nowMs) continue
      this.#close(space, fk, nowMs)
      this.#stats.requestTimeouts++
      const late = this.#sessions.get(req.peer)
      if (late !== undefined) late.unanswered++
      out.push(...this.plan(space, fk, nowMs, new Set([...req.tried, req.peer])))
      out.push(...this.planWaiting(req.peer, nowMs))
    }
    return out
  }

  /** The link to `peer` ended (its session is gone): its pulls and those waiting for it are asked of others. */
  peerGone (peer: AuthorKey, nowMs: number): Send[] {
    this.#probes.deleteUnder(peer)
    this.#asked.peerGone(peer)
    const out: Send[] = []
    for (const [[space, fk], req] of [...this.#requests.entries()]) {
      if (req.peer !== peer) continue
      this.#close(space, fk, nowMs)
      out.push(...this.plan(space, fk, nowMs, new Set([...req.tried, peer])))
    }
    const waiting = this.#waiting.get(peer)
    this.#waiting.delete(peer)
    this.#pullBytes.delete(peer)
    for (const [[space, fk]] of waiting?.entries() ?? []) out.push(...this.plan(space, fk, nowMs))
    return out
  }

  /**
   * The node left `space`: its pulls end, nothing of it waits, late answers are not expected. The budget its pulls
   * held at a peer is free again, so other spaces' pulls waiting for room there are planned (nothing else would).
   */
  spaceGone (space: SpaceKey, nowMs: number): Send[] {
    const freed = new Set<AuthorKey>()
    for (const [[s, fk], req] of [...this.#requests.entries()]) {
      if (s !== space) continue
      this.#close(s, fk, nowMs)
      freed.add(req.peer)
    }
    for (const [peer, waiting] of [...this.#waiting]) {
      for (const [key] of [...waiting.entries()]) if (key[0] === space) waiting.delete(key)
      if (waiting.size === 0) this.#waiting.delete(peer)
    }
    for (const [key] of [...this.#probes.entries()]) if (key[1] === space) this.#probes.delete(key)
    this.#asked.spaceGone(space)
    return [...freed].flatMap(peer => this.planWaiting(peer, nowMs))
  }

  nextDeadline (): number | null {
    let next: number | null = null
    for (const r of this.#requests.values()) if (next === null || r.deadline < next) next = r.deadline
    for (const { deadline } of this.#probes.values()) {
      if (deadline !== Infinity && (next === null || deadline < next)) next = deadline
    }
    return next
  }

  /** Pulls that waited for room at `peer`: planned again (of it or of another) while it has room. */
  planWaiting (peer: AuthorKey, nowMs: number): Send[] {
    const waiting = this.#waiting.get(peer)
    if (waiting === undefined) return []
    const out: Send[] = []
    // Oldest first, one at a time while the peer has room: never a copy of all that wait. A peer's hello can leave
    // tens of thousands waiting, and every pull of it that ends calls this: a copy each time stalled the node for
    // seconds a tick. At most the keys waiting now are visited (plan() may put one back, at the end).
    for (let left = waiting.size; left > 0; left--) {
      if ((this.#pullBytes.get(peer) ?? 0) + pullWorstBytes(1) > PULL_BYTES_PER_PEER_MAX) return out
      const key = waiting.first()
      if (key === undefined) break
      waiting.delete(key)
      out.push(...this.plan(key[0], key[1], nowMs))
    }
    if (waiting.size === 0) this.#waiting.delete(peer)
    return out
  }

  // ------------------------------------------------------------------ fork probes

  /** The peer's head for a feed we hold at least as far differs from ours: ask for its entry there, to prove a fork. */
  probeIfDiverged (session: Session, replica: SpaceReplica, shared: SharedSpace, fk: FeedKey, nowMs: number): Send[] {
    const count = shared.known.get(fk) ?? 0
    const head = shared.heads.get(fk)
    if (count === 0 || head === undefined || head === null || shared.frozen.has(fk) || shared.diverged(fk)) return []
    const { author, epoch } = parseFeedKey(fk)
    const ours = replica.feedRow(author, epoch)
    if (ours === undefined || ours.frozen || ours.count < count) return []
    if (replica.entryIdAt(author, epoch, count - 1) !== head) return this.probe(session, replica, fk, count - 1, nowMs)
    return []
  }

  /**
   * Asks a peer for its entries of a feed up to `seq`, going back up to
   * PROBE_BACK_ENTRIES: the first position where they differ from ours is
   * where the fork is proven. A fork proven at the first divergence is the
   * same on every node, so everyone keeps the same prefix (decision 7).
   */
  probe (
    session: Session, replica: SpaceReplica, fk: FeedKey, seq: number, nowMs: number, back = PROBE_BACK_ENTRIES
  ): Send[] {
    const from = Math.max(0, seq - back + 1)
    const key: [AuthorKey, SpaceKey, FeedKey, number] = [session.peer, replica.key, fk, from]
    if (this.#probes.has(key)) return []
    const { author, epoch } = parseFeedKey(fk)
    const range: FeedRange = { author: fromHex(author), epoch, from, to: seq + 1 }
    const send: Send = { peer: session.peer, msg: { m: 'want', space: replica.id, ranges: [range] } }
    const sent = [this.#asked.add(session.peer, replica.key, fk, from, seq + 1)]
    this.#probes.set(key, { deadline: nowMs + REQUEST_TIMEOUT_MS, send, to: seq + 1, sent })
    return [send]
  }

  /**
   * Probes unanswered by their deadline: asked again (one more answer owed), up to PROBE_ASKS_MAX times. Then, as
   * after a `none`, no more; the probe stays listed (the start of its answer, however late, was asked for) until it
   * is answered or the link ends, and the answers to its sends are still expected for LATE_ANSWER_MS.
   */
  #probesDue (nowMs: number): Send[] {
    const out: Send[] = []
    for (const [[peer, space, fk, from], probe] of this.#probes.entries()) {
      if (probe.deadline > nowMs) continue
      if (probe.sent.length >= PROBE_ASKS_MAX) {
        this.#giveUp(probe, nowMs)
        continue
      }
      probe.sent.push(this.#asked.add(peer, space, fk, from, probe.to))
      probe.deadline = nowMs + REQUEST_TIMEOUT_MS
      out.push(probe.send)
    }
    return out
  }

  #giveUp (probe: Probe, nowMs: number): void {
    probe.deadline = Infinity
    this.#asked.settle(nowMs, ...probe.sent)
  }

  /**
   * Our entry at a fork's first difference carries a signature its author botched: member peers (all but the one
   * whose run showed it, or the one that just said hello) are asked for the run up to it (a probe), so that one
   * holding a valid copy gives it us. Once a position a link (copiesAsked).
   */
  askCopies (replica: SpaceReplica, at: FeedPosition, to: AuthorKey | null, except: AuthorKey | 'local',
    nowMs: number): Send[] {
    const out: Send[] = []
    const fk = feedKey(at.author, at.epoch)
    for (const session of this.#sessions.values()) {
      if ((to !== null && session.peer !== to) || session.peer === except || !isMember(replica, session.peer)) continue
      const asked = session.spaces.get(replica.key)?.copiesAsked
      if (asked === undefined || asked.has(`${fk}/${at.seq}`) || asked.size >= COPIES_ASKED_MAX) continue
      asked.add(`${fk}/${at.seq}`)
      // The one entry, so that its own signature is checked (a run's is at its end), under a key no refinement's
      // probe of the same peer shares (one listed took this ask, and nothing was sent).
      out.push(...this.probe(session, replica, fk, at.seq, nowMs, 1))
    }
    return out
  }

  /** A valid copy replaced a botched one below our proof (`resigned`): the proof is refined again with every peer. */
  refineAgain (replica: SpaceReplica, at: FeedPosition, nowMs: number): Send[] {
    const proof = replica.forkProofs().find(p => p.author === at.author && p.epoch === at.epoch)
    if (proof === undefined || proof.seq <= at.seq) return []
    const out: Send[] = []
    for (const session of this.#sessions.values()) {
      if (!session.spaces.has(replica.key) || !isMember(replica, session.peer)) continue
      out.push(...this.refineFork(session, replica, proof, nowMs))
    }
    return out
  }

  /**
   * Where our entry below a proof carries a signature its author botched (just below it, or where a peer showed a
   * valid entry that differs: SpaceReplica.botchedBelow), the fork may be provable there: peers are asked for a copy
   * (`to`, or all), when the proof is committed (a peer linked since the run that proved it may hold one) and when a
   * member says hello.
   */
  askCopiesBelow (replica: SpaceReplica, proof: ForkProof, to: AuthorKey | null, nowMs: number): Send[] {
    return replica.botchedBelow(proof).flatMap(seq => this.askCopies(replica, { ...proof, seq }, to, 'local', nowMs))
  }

  /** A proof whose two entries have different `prev`s is not at the first divergence: look further back. */
  refineFork (session: Session, replica: SpaceReplica, proof: ForkProof, nowMs: number): Send[] {
    if (proof.seq === 0) return []
    const a = decodeEntry(proof.a[0], proof.a[1])
    const b = decodeEntry(proof.b[0], proof.b[1])
    // Both branches of the proof leave one entry: lower only if ours there is another (a third branch).
    if (a.prev !== null && b.prev !== null && bytesEqual(a.prev, b.prev)) {
      const ours = replica.entryIdAt(proof.author, proof.epoch, proof.seq - 1)
      if (ours === undefined || ours === toHex(a.prev)) return []
    }
    return this.probe(session, replica, feedKey(proof.author, proof.epoch), proof.seq - 1, nowMs)
  }

  /** The pull of `fk` ends; the rest of its answer, if any comes, is still asked for (LATE_ANSWER_MS). */
  #close (space: SpaceKey, fk: FeedKey, nowMs: number): void {
    const req = this.#requests.get([space, fk])
    if (req === undefined) return
    this.#requests.delete([space, fk])
    this.#asked.settle(nowMs, req.ask)
    const left = (this.#pullBytes.get(req.peer) ?? 0) - req.worstBytes
    if (left > 0) this.#pullBytes.set(req.peer, left)
    else this.#pullBytes.delete(req.peer)
  }
}
