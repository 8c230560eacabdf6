import fs from 'node:fs'
import path from 'node:path'
import { printable } from '../ids/index.ts'

export interface MisbehaviourRecord {
  peer: string
  reason: string
  points: number
  score: number
  atMs: number
  disconnected: boolean
}

/** Records kept in memory: the oldest go first. */
const MISBEHAVIOUR_LOG_MAX = 1000
/** The file on disk is rotated past this size; one older file is kept (so at most twice this on disk). */
const FILE_MAX_BYTES = 256 * 1024
/** A reason is cut to this length (it may quote what a peer sent). */
const REASON_MAX_CHARS = 200
const MISBEHAVIOUR_FILE = 'misbehaviour.jsonl'

/**
 * What peers did wrong and who was disconnected, newest last, for
 * `samepage misbehaviour` and the status report: filled from the sync
 * engine's events (the engine keeps no log of its own for the node to read).
 *
 * Kept on disk in the data directory as JSON lines, one record a line,
 * appended as it happens and read back at start, so the log outlives a
 * restart. Bounded: past FILE_MAX_BYTES the file becomes misbehaviour.1.jsonl
 * (the one before is dropped). Appends are not atomic; a crash can leave at
 * most the last line torn, which the next start cuts off before appending,
 * so older lines are never lost. A disk that refuses a write loses the line
 * on disk only: the record stays in memory.
 */
export class MisbehaviourLog {
  /** The records themselves (the node shows this array as `node.misbehaviour`). */
  readonly records: MisbehaviourRecord[] = []
  readonly #file: string | undefined
  #fileBytes = 0

  /** `dir`: the data directory (absent: kept in memory only). */
  constructor (dir?: string) {
    if (dir === undefined) return
    this.#file = path.join(dir, MISBEHAVIOUR_FILE)
    for (const file of [rotated(this.#file), this.#file]) {
      for (const rec of readRecords(file)) this.#keep(rec)
    }
    this.#fileBytes = cutTornLine(this.#file)
  }

  add (rec: MisbehaviourRecord): void {
    const kept = this.#keep(rec)
    if (this.#file !== undefined) this.#append(this.#file, kept)
  }

  /** The last few worth reporting to the deployment: misbehaviour, and disconnections that cost points. */
  recent (): { peer: string, reason: string, points: number, atMs: number }[] {
    return this.records.filter(m => !m.disconnected || m.points > 0).slice(-8)
      .map(m => ({ peer: m.peer, reason: m.reason, points: m.points, atMs: m.atMs }))
  }

  /** Kept with its reason cut and printable, in memory as on disk: a reason may quote what a peer sent. */
  #keep (rec: MisbehaviourRecord): MisbehaviourRecord {
    const kept = { ...rec, reason: printable(rec.reason, REASON_MAX_CHARS) }
    this.records.push(kept)
    if (this.records.length > MISBEHAVIOUR_LOG_MAX) this.records.shift()
    return kept
  }

  #append (file: string, rec: MisbehaviourRecord): void {
    const line = `${JSON.stringify(rec)}\n`
    try {
      if (this.#fileBytes > 0 && this.#fileBytes + Buffer.byteLength(line) > FILE_MAX_BYTES) {
        fs.renameSync(file, rotated(file))
        this.#fileBytes = 0
      }
      fs.appendFileSync(file, line, { mode: 0o600 })
      this.#fileBytes += Buffer.byteLength(line)
    } catch {
      // A full or failing disk: the record stays in memory; storage health reports the disk elsewhere.
    }
  }
}

function rotated (file: string): string {
  return file.replace(/\.jsonl$/, '.1.jsonl')
}

/** The well-formed records of a file, oldest first (a torn or foreign line is skipped). */
function readRecords (file: string): MisbehaviourRecord[] {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch {
    return []
  }
  return text.split('\n').flatMap(line => {
    try {
      const r = JSON.parse(line) as Partial<Record<keyof MisbehaviourRecord, unknown>>
      const ok = typeof r.peer === 'string' && typeof r.reason === 'string' && typeof r.points === 'number' &&
        typeof r.score === 'number' && typeof r.atMs === 'number' && typeof r.disconnected === 'boolean'
      return ok ? [r as MisbehaviourRecord] : []
    } catch {
      return []
    }
  }).slice(-MISBEHAVIOUR_LOG_MAX)
}

/** Cuts a line left torn by a crash (the file ends without a newline); returns the file's size after. */
function cutTornLine (file: string): number {
  let bytes: Buffer
  try {
    bytes = fs.readFileSync(file)
  } catch {
    return 0
  }
  if (bytes.length === 0 || bytes[bytes.length - 1] === 0x0a) return bytes.length
  const keep = bytes.lastIndexOf(0x0a) + 1
  try {
    fs.truncateSync(file, keep)
    return keep
  } catch {
    return bytes.length // a read-only disk: appends fail too, and the torn line is skipped on reading
  }
}
