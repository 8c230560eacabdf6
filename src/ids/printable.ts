/**
 * Control characters (terminal escapes, line breaks that forge lines in a
 * log or `samepage net`) and bidirectional overrides (text that reads other
 * than it is).
 */
const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

/**
 * Text a peer chose (a report's fields, a space's name, a key quoted in an
 * error) as we keep or show it: cut to `maxChars` (an ellipsis marks the
 * cut), each unsafe character made U+FFFD. Cut first, so a peer's megabytes
 * cost a slice.
 */
export function printable (s: string, maxChars: number): string {
  const cut = s.length <= maxChars ? s : s.slice(0, maxChars - 1) + '…'
  return cut.replace(UNSAFE_TEXT, '\ufffd').toWellFormed()
}

/** The first unsafe character of `s` as "U+202E", for an error that names it; undefined when there is none. */
export function unsafeCharIn (s: string): string | undefined {
  const c = new RegExp(UNSAFE_TEXT.source).exec(s)?.[0]
  return c === undefined ? undefined : `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`
}

/**
 * Text a peer chose, whole, for a line of output that must stay one line and say what it holds (a key, a value): as
 * it is if it has no unsafe character, else as a JSON string with each one escaped (`\u001b`), so nothing is lost
 * and nothing reaches the terminal as a control.
 */
export function quotedIfUnsafe (s: string): string {
  if (!new RegExp(UNSAFE_TEXT.source).test(s)) return s
  return JSON.stringify(s).replace(UNSAFE_TEXT, c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
