import { SamepageError } from '../ids/index.ts'

/**
 * The one error a decoder throws. Whatever garbage a peer sends, a decoder
 * either returns a value or throws this, with a stable `code` and a message
 * that names the part that is wrong (tested on random and mutated inputs).
 * Where the error becomes a line for someone else (a peer's penalty reason,
 * an unreadable row's marker, the API's BAD_INPUT message), codecReason
 * puts the code in front: the message itself never carries it.
 */
export type CodecErrorCode =
  | 'OVERSIZED' // more bytes, items or depth than the limit for this kind of input
  | 'MALFORMED' // not DAG-CBOR at all
  | 'NON_CANONICAL' // valid CBOR, but not the canonical bytes of its value
  | 'INVALID_FIELD' // a field is missing, of the wrong type or out of range
  | 'UNKNOWN_TYPE' // a message or body type this version does not know

export class CodecError extends SamepageError<CodecErrorCode> {}

export function isCodecError (err: unknown): err is CodecError {
  return err instanceof CodecError
}

/** The error as one line for a log, a peer or the API: its code, then what is wrong. */
export function codecReason (err: CodecError): string {
  return `${err.code}: ${err.message}`
}
