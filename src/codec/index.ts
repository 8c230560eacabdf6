/**
 * codec/: canonical encodings (DAG-CBOR), ids and CIDs (SHA-256), wire
 * messages, and the hard size limits on all of them.
 *
 * Every decoder here returns a value or throws CodecError, whatever the
 * input; nothing else escapes (test/codec/fuzz.test.ts). Imports nothing of
 * the project but nothing: it sits at the bottom with identity/.
 */
export * from './errors.ts'
export * from './limits.ts'
export {
  encodeCbor, decodeCbor, canonicalByReencoding, isCanonicalDagCbor, bytesEqual, compareBytes, toHex, fromHex,
  assertValueDepth
} from './cbor.ts'
export { cborHeadSize, writeCborHead } from './cbor-head.ts'
export { storedEntryClock } from './skim.ts'
export { sha256, cidOf, cidFromBytes, cidFromString } from './hash.ts'
export * from './entry.ts'
export { FOLDER_WORK_AREA, filePathProblem, inWorkArea, localPathProblem } from './file-path.ts'
export * from './records.ts'
export * from './message.ts'
export * as fields from './fields.ts'
