import { NodeError } from './errors.ts'

/** The most rows a page of `kv list` or `ledger list` holds (it may stop sooner by its bytes: space/view-pages.ts). */
export const PAGE_ROWS_MAX = 1000
/** A cursor is the hex of a view key: a kv key (at most 1 KiB), a ledger position (92 bytes). */
const CURSOR_HEX_MAX = 2 * 1024

/** `after` as the view key it names (absent: the list's start); BAD_INPUT for what no page gave as `next`. */
export function cursorKey (after: string | undefined): Uint8Array {
  if (after === undefined) return new Uint8Array(0)
  if (after.length > CURSOR_HEX_MAX || !/^(?:[0-9a-f]{2})+$/.test(after)) {
    throw new NodeError('BAD_INPUT', `after=${JSON.stringify(after.slice(0, 40))} is not a page cursor: ` +
      'give the "next" of the page before, or leave it out for the first page')
  }
  return new Uint8Array(Buffer.from(after, 'hex'))
}

export function pageLimit (limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > PAGE_ROWS_MAX) {
    throw new NodeError('BAD_INPUT', `limit=${limit} is not a page size: a whole number from 1 to ${PAGE_ROWS_MAX}`)
  }
  return limit
}
