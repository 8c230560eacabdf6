import crypto from 'node:crypto'
import type http from 'node:http'
import type { WebSocket } from 'ws'
import type { FolderStatus, Node } from '../node/index.ts'
import { folderEvent } from './folder-event.ts'
import { toJson } from './json.ts'

/**
 * The node's events as the API serves them (GET /v1/events, as Server-Sent
 * Events or over a WebSocket). Each gets an id and a time as it happens and
 * is kept in a replay buffer of the last REPLAY_MAX (at most REPLAY_BYTES_MAX
 * of them), so a client that reconnects resumes after the last id it saw (`Last-Event-ID`, or
 * `?since=ID`) and misses nothing the buffer still holds. A resume from an id
 * the buffer no longer holds, or from another run of the daemon, first gets
 * a `gap` event saying so: a client never skips events without knowing.
 *
 * An id is `RUN-SEQ`: RUN is random per start of the daemon, SEQ counts
 * from 1, so an id from before a restart is never taken for one of this run.
 */
export const EVENT_TYPES = [
  'stored', 'fork', 'misbehaviour', 'disconnect', 'folder', 'network', 'notice', 'left'
] as const
type EventType = typeof EVENT_TYPES[number]

/** An event id: RUN (8 hex digits) and SEQ. */
const ID = /^([0-9a-f]{8})-([1-9][0-9]{0,15})$/

/** The last events kept for a resume; older ones are answered with a gap. */
const REPLAY_MAX = 1000
/**
 * And at most this many bytes of them (as JSON): half a subscriber's queue (QUEUED_BYTES_MAX), so a whole replay
 * never cuts off the client that asked for it, and the buffer's memory does not grow with what peers make big.
 */
const REPLAY_BYTES_MAX = 2 * 1024 * 1024

interface ApiEvent {
  readonly id: string
  /** When the daemon saw it, ISO 8601 UTC. */
  readonly time: string
  readonly type: EventType
  readonly [field: string]: unknown
}

/** Sent instead of events the client can no longer have: it should refetch what it shows. */
interface GapEvent {
  readonly type: 'gap'
  readonly time: string
  /** `evicted`: older than the replay buffer; `restarted`: an id of an earlier run of the daemon. */
  readonly reason: 'evicted' | 'restarted'
  /** The id the client resumed after. */
  readonly after: string
  /** How many events it missed, when known (not across a restart). */
  readonly missed?: number
}

/** What a subscriber asked for: which types (all when undefined), and after which id. */
interface EventQuery {
  readonly types?: ReadonlySet<string>
  readonly after?: string
}

/** Why a query cannot be served: the caller's error (a 400). */
export class EventQueryError extends Error {}

export class EventLog {
  readonly #run = crypto.randomBytes(4).toString('hex')
  #seq = 0
  readonly #buffer: ApiEvent[] = []
  /** The JSON size of each buffered event, in step with #buffer, and their sum. */
  readonly #sizes: number[] = []
  #bufferBytes = 0
  readonly #subscribers = new Set<(e: ApiEvent) => void>()
  readonly #unhook: () => void

  constructor (node: Node) {
    const handlers = EVENT_TYPES.map(type => [type, (payload: object) => {
      // A folder's status as a bounded summary: the stream says what changed, GET .../folder holds all of it.
      this.#add(type, type === 'folder' ? folderEvent(payload as { space: string, status: FolderStatus }) : payload)
    }] as const)
    for (const [type, h] of handlers) node.on(type, h)
    this.#unhook = () => { for (const [type, h] of handlers) node.off(type, h) }
  }

  /** Stops listening to the node; subscribers get nothing more. */
  close (): void {
    this.#unhook()
    this.#subscribers.clear()
  }

  /**
   * Sends `deliver` what the query asks: first a gap if some events are
   * lost to it, then the buffered events after `query.after`, then each new
   * one as it happens, until the returned function is called. Throws
   * EventQueryError for an unknown type or a malformed or future id.
   */
  subscribe (query: EventQuery, deliver: (e: ApiEvent | GapEvent) => void): () => void {
    this.check(query)
    const wanted = (e: ApiEvent): boolean => query.types === undefined || query.types.has(e.type)
    // Replayed and hooked in one turn of the event loop: no event falls between the two.
    for (const e of this.#replay(query.after, deliver)) if (wanted(e)) deliver(e)
    const live = (e: ApiEvent): void => { if (wanted(e)) deliver(e) }
    this.#subscribers.add(live)
    return () => { this.#subscribers.delete(live) }
  }

  /** Throws EventQueryError for an unknown type, or an id that is malformed or of this run but not yet given. */
  check (query: EventQuery): void {
    const known = `the types are ${EVENT_TYPES.join(', ')}`
    if (query.types?.size === 0) throw new EventQueryError(`types= names no type; ${known}`)
    for (const t of query.types ?? []) {
      if (!(EVENT_TYPES as readonly string[]).includes(t)) {
        throw new EventQueryError(`unknown event type "${t}"; ${known}`)
      }
    }
    if (query.after === undefined) return
    const m = ID.exec(query.after)
    if (m === null) throw new EventQueryError(`"${query.after}" is not an event id (RUN-SEQ)`)
    if (m[1] === this.#run && Number(m[2]) > this.#seq) {
      throw new EventQueryError(`event ${query.after} has not happened yet`)
    }
  }

  /** The buffered events after `after` (none when it is undefined: a fresh subscriber gets only what comes). */
  #replay (after: string | undefined, deliver: (e: GapEvent) => void): ApiEvent[] {
    if (after === undefined) return []
    const m = ID.exec(after) as RegExpExecArray // check() passed
    const time = new Date().toISOString()
    if (m[1] !== this.#run) {
      deliver({ type: 'gap', time, reason: 'restarted', after })
      return this.#buffer.slice()
    }
    const seq = Number(m[2])
    const oldest = this.#seq - this.#buffer.length + 1 // the seq of #buffer[0]
    if (seq < oldest - 1) deliver({ type: 'gap', time, reason: 'evicted', after, missed: oldest - 1 - seq })
    return this.#buffer.slice(Math.max(0, seq - oldest + 1))
  }

  #add (type: EventType, payload: object): void {
    this.#seq++
    const event: ApiEvent = { id: `${this.#run}-${this.#seq}`, time: new Date().toISOString(), type, ...payload }
    const size = Buffer.byteLength(toJson(event))
    this.#buffer.push(event)
    this.#sizes.push(size)
    this.#bufferBytes += size
    // The newest event is always kept (a resume right after it needs no gap).
    while (this.#buffer.length > 1 && (this.#buffer.length > REPLAY_MAX || this.#bufferBytes > REPLAY_BYTES_MAX)) {
      this.#buffer.shift()
      this.#bufferBytes -= this.#sizes.shift() as number
    }
    for (const s of this.#subscribers) s(event)
  }
}

/** A client this far behind (bytes queued to it) is cut off; it resumes from its last id when it can keep up. */
const QUEUED_BYTES_MAX = 4 * 1024 * 1024
const HEARTBEAT_MS = 30_000

/**
 * The query of GET /v1/events: `types=a,b` (all when absent), and the id to
 * resume after: the `Last-Event-ID` header (an EventSource sends it on its
 * own when it reconnects), else `since=`.
 */
export function eventQuery (url: URL, headers: http.IncomingHttpHeaders): EventQuery {
  const types = url.searchParams.get('types')
  const lastId = headers['last-event-id']
  const after = typeof lastId === 'string' && lastId !== '' ? lastId : url.searchParams.get('since') ?? undefined
  return {
    ...(types === null ? {} : { types: new Set(types.split(',').map(t => t.trim()).filter(t => t !== '')) }),
    ...(after === undefined || after === '' ? {} : { after })
  }
}

/**
 * Server-Sent Events: a `hello` (no id), then one `data:` line of JSON per
 * event, with its `id:`, and a comment line every HEARTBEAT_MS so a dead
 * connection or an idle proxy shows. Every message is the same JSON as on
 * the WebSocket; its `type` field says what it is (no `event:` field, so an
 * EventSource's onmessage gets them all).
 */
export function streamSse (
  res: http.ServerResponse, log: EventLog, query: EventQuery, hello: object, headers: Readonly<Record<string, string>>
): void {
  const write = (text: string): void => {
    res.write(text)
    if (res.writableLength > QUEUED_BYTES_MAX) res.destroy()
  }
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', ...headers })
  write(`data: ${toJson({ type: 'hello', ...hello })}\n\n`)
  const unsubscribe = log.subscribe(query, e => {
    const id = 'id' in e ? `id: ${e.id}\n` : ''
    write(`${id}data: ${toJson(e)}\n\n`)
  })
  const heartbeat = setInterval(() => { write(': heartbeat\n\n') }, HEARTBEAT_MS)
  heartbeat.unref()
  res.once('close', () => { clearInterval(heartbeat); unsubscribe() })
}

/** The same messages over a WebSocket, one JSON text frame each: `hello`, then the events. */
export function streamWebSocket (ws: WebSocket, log: EventLog, query: EventQuery, hello: object): void {
  ws.send(toJson({ type: 'hello', ...hello }))
  const unsubscribe = log.subscribe(query, e => {
    if (ws.readyState !== ws.OPEN) return
    ws.send(toJson(e))
    if (ws.bufferedAmount > QUEUED_BYTES_MAX) ws.terminate()
  })
  ws.once('close', unsubscribe)
}
