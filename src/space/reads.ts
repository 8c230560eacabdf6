import { codecReason, isCodecError } from '../codec/index.ts'

/**
 * Reads never throw on stored data (decision 14). A row or record that can
 * no longer be read (written by an older version with weaker checks, or
 * damaged) is shown as a marker in its place, and every other row is still
 * listed. The marker uses the DAG-JSON convention that a map whose only key
 * is "/" is a special form (as bytes are {"/": {"bytes": …}} in the API):
 * {"/": {"unreadable": why}}.
 */
interface UnreadableMarker { readonly '/': { readonly unreadable: string } }

function unreadable (err: unknown): UnreadableMarker {
  const why = isCodecError(err) ? codecReason(err) : err instanceof Error ? `${err.name}: ${err.message}` : 'unreadable'
  return { '/': { unreadable: why.slice(0, 200) } }
}

/** `read()`, or the marker of what it threw. */
export function readOrMark<T> (read: () => T): T | UnreadableMarker {
  try {
    return read()
  } catch (err) {
    return unreadable(err)
  }
}

/** `read()`, or undefined if the stored bytes cannot be read (records a reader can do without, such as a status). */

export function readOrSkip<T> (read: () => T): T | undefined {
  try {
    return read()
  } catch {
    return undefined
  }
}
