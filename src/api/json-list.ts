import type { Writable } from 'node:stream'
import { elementJson } from './json.ts'

/**
 * A list answered as a JSON array written a row at a time, never made into
 * one string: a ledger's JSON can be longer than any string V8 holds
 * (~2^29 characters, ~90 MB of members' appends), and a list stringified
 * whole then answered 500 for good (review A, defect 4). The rows come a
 * page at a time from the node (space/view-pages.ts bounds each), and the
 * writer waits for the socket to drain, so the daemon holds about one page
 * and one chunk of a list, however long, and a slow client slows the read.
 */
interface ListPage {
  readonly rows: readonly unknown[]
  readonly next: string | null
}

export class JsonList {
  /** The first page, read before the answer starts (so an unknown SPACE is still a 404, not a cut stream). */
  readonly first: ListPage
  /** The page after a page's `next`. */
  readonly after: (next: string) => ListPage

  constructor (first: ListPage, after: (next: string) => ListPage) {
    this.first = first
    this.after = after
  }
}

/** What the writer gathers before one write to the socket. */
const CHUNK_CHARS = 64 * 1024

/**
 * Writes `list` to `out` as one JSON array, then ends it; returns false if the client went away first (nothing more
 * is read then). A row's JSON goes out with the chunk it completes: a chunk is at most CHUNK_CHARS and one row.
 */
export async function writeJsonList (out: Writable, list: JsonList, chunkChars = CHUNK_CHARS): Promise<boolean> {
  let chunk = '['
  let first = true
  for (let page: ListPage | undefined = list.first; page !== undefined;) {
    for (const row of page.rows) {
      chunk += (first ? '' : ',') + elementJson(row)
      first = false
      if (chunk.length >= chunkChars) {
        if (!await written(out, chunk)) return false
        chunk = ''
      }
    }
    page = page.next === null ? undefined : list.after(page.next)
  }
  if (!await written(out, chunk + ']')) return false
  out.end()
  return true
}

/** Writes `text`, then waits until the socket takes more: false if it closed first. */
async function written (out: Writable, text: string): Promise<boolean> {
  if (out.destroyed) return false
  if (out.write(text)) return true
  return await new Promise<boolean>(resolve => {
    const settle = (drained: boolean) => (): void => {
      out.off('drain', onDrain)
      out.off('close', onClose)
      resolve(drained)
    }
    const onDrain = settle(true)
    const onClose = settle(false)
    out.once('drain', onDrain)
    out.once('close', onClose)
  })
}
