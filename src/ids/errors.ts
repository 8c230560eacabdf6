/**
 * The one error convention of samepage. Every error the library throws on
 * purpose is a SamepageError: a stable `code` that callers branch on (never
 * the message), a message written for the person who reads it (what is wrong
 * and what to do, without naming command-line flags: the library does not
 * know how it was called), and the error it comes from as `cause`.
 *
 * Each layer narrows `code` to its own union (CodecError, IdentityError,
 * NodeError, …); `instanceof SamepageError` finds them all.
 */
export class SamepageError<Code extends string = string> extends Error {
  readonly code: Code

  constructor (code: Code, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** An error of samepage with one of the given codes (or any code, without them). */
export function hasCode<Code extends string> (err: unknown, ...codes: readonly Code[]): err is SamepageError<Code> {
  return err instanceof SamepageError && (codes.length === 0 || (codes as readonly string[]).includes(err.code))
}
