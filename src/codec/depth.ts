import { CodecError } from './errors.ts'
import { CBOR_DEPTH_MAX } from './limits.ts'

/**
 * Nesting depth, decided by rule before anything recursive runs (decision 14).
 *
 * cborg's decoder, cborg's encoder and JSON.stringify all recurse: a value
 * nested a few thousand levels fits in 64 KiB and then overflows the stack
 * somewhere later, at a depth that depends on the stack and the JIT, so two
 * honest nodes could decide the same bytes differently. Both checks here are
 * loops with a stack of at most `maxDepth` counters: they answer the same for
 * the same input on every node, whatever the stack, and take time linear in
 * the input. Depth counts containers: arrays, maps and tags (a tag wraps one
 * item); a scalar alone has depth 0, `[1]` depth 1, `[[1]]` depth 2.
 */

/**
 * Why `b` cannot be handed to the DAG-CBOR decoder, or null: nested deeper
 * than `maxDepth`, or not well-formed CBOR of the kinds DAG-CBOR allows
 * (definite lengths only, no reserved or break bytes, no trailing bytes,
 * every announced length present). UTF-8, map keys and tags' meaning are the
 * decoder's business; this only makes sure the decoder's recursion is bounded.
 */
export function cborNestingProblem (b: Uint8Array, maxDepth: number): string | null {
  const n = b.length
  let pos = 0
  // Items still to read in each open container, the outermost "container" being the one top-level item.
  const left: number[] = [1]
  let depth = 0
  for (;;) {
    while (left[depth] === 0) {
      if (depth === 0) return pos === n ? null : `trailing bytes at ${pos}`
      depth--
    }
    left[depth] = (left[depth] as number) - 1
    if (pos >= n) return `truncated at byte ${pos}`
    const ib = b[pos] as number
    const major = ib >> 5
    const info = ib & 31
    let arg: number
    let head: number
    if (info < 24) {
      arg = info
      head = 1
    } else if (info <= 27) {
      head = 1 + (1 << (info - 24))
      if (pos + head > n) return `truncated at byte ${pos}`
      arg = 0
      // A double: exact below 2^53, and huge above, which is all a length check needs.
      for (let i = 1; i < head; i++) arg = arg * 256 + (b[pos + i] as number)
    } else {
      return info === 31 ? `indefinite length or break at byte ${pos} (not DAG-CBOR)` : `reserved head at byte ${pos}`
    }
    pos += head
    switch (major) {
      case 0: case 1: case 7: // integers, simple values and floats: the head is the whole item
        continue
      case 2: case 3:
        if (arg > n - pos) return `a string at byte ${pos - head} runs past the end`
        pos += arg
        continue
      default: { // 4 array, 5 map, 6 tag
        const items = major === 4 ? arg : major === 5 ? 2 * arg : 1
        if (items > n - pos) return `a container at byte ${pos - head} announces more items than there are bytes`
        if (depth + 1 > maxDepth) return `nested deeper than ${maxDepth} levels (at byte ${pos - head})`
        depth++
        left[depth] = items
      }
    }
  }
}

/** Throws CodecError unless `b` passes cborNestingProblem: OVERSIZED for depth, MALFORMED for the rest. */
export function assertCborNesting (b: Uint8Array, what: string, maxDepth = CBOR_DEPTH_MAX): void {
  const problem = cborNestingProblem(b, maxDepth)
  if (problem === null) return
  if (problem.startsWith('nested')) throw new CodecError('OVERSIZED', `${what}: ${problem}`)
  throw new CodecError('MALFORMED', `${what}: not DAG-CBOR (${problem})`)
}

/**
 * Whether a JavaScript value (a user's JSON, a value about to be encoded)
 * nests deeper than `maxDepth` arrays and maps, found by a loop that stops
 * at the first item past the limit. Bytes and CIDs are leaves. Costs at most
 * one visit per item (a cycle, impossible in JSON, runs into the limit).
 * Counts as cborNestingProblem does on the value's encoding (a CID is a tag: one level).
 */
export function valueDeeperThan (value: unknown, maxDepth: number): boolean {
  const stack: [unknown, number][] = [[value, 0]]
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [v, depth] = top
    if (v === null || typeof v !== 'object' || v instanceof Uint8Array) continue
    if (depth + 1 > maxDepth) return true // a CID counts too: it is a tag around bytes
    if (isCid(v)) continue
    const children = Array.isArray(v) ? v : Object.values(v)
    for (const c of children) if (c !== null && typeof c === 'object') stack.push([c, depth + 1])
  }
  return false
}

function isCid (v: object): boolean {
  return 'asCID' in v && (v as { asCID: unknown }).asCID === v
}
