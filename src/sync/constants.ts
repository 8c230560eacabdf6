/**
 * The sync protocol's numbers, each with its reason.
 */

/** How long a pull may go without progress before it is asked of another peer. Virtual or real ms alike. */
export const REQUEST_TIMEOUT_MS = 2_000

/**
 * How long the rest of an answer to a want whose pull closed (timed out, or ended by what came meanwhile) still
 * counts as asked for (an honest duplicate).
 */
export const LATE_ANSWER_MS = 10 * REQUEST_TIMEOUT_MS
/**
 * Asks not yet wholly answered that are remembered (asked.ts), in all; past it the oldest of the peer holding the most
 * is forgotten.
 */
export const ASKED_MAX = 10_000
/**
 * ... and per peer and feed: one pull of a feed is open at a time, and a pull asked again every REQUEST_TIMEOUT_MS
 * leaves 10 unanswered within LATE_ANSWER_MS; a fork probe is sent up to 5 times, each send an answer owed.
 */
export const ASKED_PER_FEED_MAX = 24

/**
 * Entries asked for at once from one peer for one feed (receiver-driven
 * credit): bounds what a sender queues for us and what we hold in flight,
 * while keeping the pipe full (4 messages of up to 1024 entries). 16,384
 * was no faster for a late joiner of 100,000 entries, and a server answers
 * a want in one go, so a smaller window keeps its other peers waiting less.
 */
export const WANT_WINDOW_ENTRIES = 4096

/**
 * A server stops answering one want after the run that brings the entry
 * bytes it sent for it to this many. The receiver counts the same bytes
 * (the unsigned bytes of every entry in the runs), so both sides know where
 * the answer ends, and large entries never make a window of megabytes.
 */
export const WANT_WINDOW_BYTES = 4 * 1024 * 1024

/**
 * What the answers to our open pulls from one peer can weigh at most, summed
 * (each pull counted at its worst case: every entry ENTRY_BYTES_MAX, capped
 * by WANT_WINDOW_BYTES plus one run). A pull that does not fit waits until
 * one of that peer's pulls ends. This is what bounds an honest peer's
 * traffic to us, so net/ can cut off a peer whose unread bytes pass a
 * multiple of it.
 */
export const PULL_BYTES_PER_PEER_MAX = 24 * 1024 * 1024

/** How far back a fork probe asks at once (the first divergence is usually within a few entries). */
export const PROBE_BACK_ENTRIES = 64

/** When pending entries are retried for the clock-skew rule. */
export const PENDING_RETRY_MS = 1_000

/** Misbehaviour points (decision 3: honest duplicates never score). */
export const SCORE = {
  garbage: 25, // a message that does not decode, or is oversized
  invalidEntry: 20, // forged, broken chain, clock regression, bad join proof
  badForkProof: 20,
  badStatus: 10,
  corruptBlock: 40, // a file chunk whose bytes do not match its hash (the block transfer checks it)
  unsolicited: 2, // entries nobody asked for (replays, or a non-member's feed no grant covers)
  overClaim: 10, // a message whose claims (feeds, status heads) pass the peer's budget (claims.ts)
  flood: 1 // each message past the rate budget
} as const

/** Past this score the link is ended and the peer refused for BAN_MS. */
export const SCORE_LIMIT = 100
/**
 * A misbehaviour reason, as SyncCore.penalize keeps it: it may quote what the peer sent, so it is cut and made
 * printable (ids/printable.ts) before it goes anywhere (events, logs, the CLI, reports).
 */
export const REASON_CHARS_MAX = 200
export const BAN_MS = 10 * 60_000
/** Bans remembered at once (a ban costs a new identity nothing to earn). */
export const BANNED_MAX = 10_000
/** Scores fade, so a peer that misbehaved once long ago is not ended for one more slip. */
export const SCORE_HALF_LIFE_MS = 60_000

/** Token bucket of messages per peer: a burst of catch-up fits; a flood does not. */
export const MESSAGES_BURST = 5_000
export const MESSAGES_PER_SECOND = 2_000

/**
 * How long one session may be a joiner under way (Session.waitingJoin) for its links to be kept: the join command's
 * default wait. An honest join is answered within it when its issuer is online; past it the joiner's link is closed
 * like a stranger's, and it may dial again (its join, held here, still reaches the issuer when that one is back).
 */
export const JOIN_WAITING_MAX_MS = 60_000
