import { SamepageError } from '../ids/index.ts'

/**
 * The one error a decoder throws. Whatever garbage a peer sends, a decoder
 * either returns a value or throws this, with a stable `code` and a message
 * that names the part that is wrong (tested on random and mutated inputs).
 * The message starts with the code: peers' rejection reasons and the API's
 * BAD_INPUT messages have always carried it, and tests read it there.
 */
export type CodecErrorCode =
  | 'OVERSIZED' // more bytes, items or depth than the limit for this kind of input
  | 'MALFORMED' // not DAG-CBOR at all
  | 'NON_CANONICAL' // valid CBOR, but not the canonical bytes of its value
  | 'INVALID_FIELD' // a field is missing, of the wrong type or out of range
  | 'UNKNOWN_TYPE' // a message or body type this version does not know

export class CodecError extends SamepageError<CodecErrorCode> {
  constructor (code: CodecErrorCode, message: string, options?: ErrorOptions) {
    super(code, `${code}: ${message}`, options)
  }
}

export function isCodecError (err: unknown): err is CodecError {
  return err instanceof CodecError
}
