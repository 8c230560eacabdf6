import { NAME_BYTES_MAX } from '../codec/index.ts'
import type { Body } from '../codec/index.ts'
import type { Page } from '../space/index.ts'
import { cursorKey, pageLimit } from './list-pages.ts'
import type { LocalWrites } from './writes.ts'
import type { SpaceSet } from './space-set.ts'
import { NodeError } from './errors.ts'

/** Keys of kv rows: bytes of UTF-8, at most. */
const KEY_BYTES_MAX = 1024

/**
 * The data views of a space as the user sees them: kv rows, counters and
 * the ledger. Reads come from the replica's views; writes are entries,
 * checked here for what the user typed, then written through LocalWrites.
 */
export class SpaceData {
  readonly #spaces: SpaceSet
  readonly #writes: LocalWrites

  constructor (init: { readonly spaces: SpaceSet, readonly writes: LocalWrites }) {
    this.#spaces = init.spaces
    this.#writes = init.writes
  }

  kvPut (ref: string, key: string, value: unknown): void {
    this.#writes.write(this.#spaces.byRef(ref), kvPutBody(key, value))
  }

  kvDel (ref: string, key: string): void {
    this.#writes.write(this.#spaces.byRef(ref), kvDelBody(key))
  }

  kvGet (ref: string, key: string): { key: string, value: unknown } {
    return { key, value: this.#spaces.byRef(ref).kvGet(key)?.value ?? null }
  }

  kvList (ref: string): { key: string, value: unknown }[] {
    return this.#spaces.byRef(ref).kvList()
  }

  counterAdd (ref: string, name: string, delta: number): void {
    this.#writes.write(this.#spaces.byRef(ref), counterAddBody(name, delta))
  }

  counterGet (ref: string, name: string): { name: string, value: number | bigint } {
    return { name, value: this.#spaces.byRef(ref).counterGet(name) }
  }

  ledgerAppend (ref: string, tx: unknown): void {
    this.#writes.write(this.#spaces.byRef(ref), { t: 'ledger.append', tx })
  }

  // The same writes through the group commit (LocalWrites.writeGrouped): what the user typed is checked at once,
  // the rest (role, size, value) when the group commits, for each write alone.

  async kvPutGrouped (ref: string, key: string, value: unknown): Promise<void> {
    await this.#writes.writeGrouped(this.#spaces.byRef(ref), kvPutBody(key, value))
  }

  async kvDelGrouped (ref: string, key: string): Promise<void> {
    await this.#writes.writeGrouped(this.#spaces.byRef(ref), kvDelBody(key))
  }

  async counterAddGrouped (ref: string, name: string, delta: number): Promise<void> {
    await this.#writes.writeGrouped(this.#spaces.byRef(ref), counterAddBody(name, delta))
  }

  async ledgerAppendGrouped (ref: string, tx: unknown): Promise<void> {
    await this.#writes.writeGrouped(this.#spaces.byRef(ref), { t: 'ledger.append', tx })
  }

  ledgerList (ref: string): unknown[] {
    return this.#spaces.byRef(ref).ledgerList()
  }

  // The lists a page at a time (list-pages.ts): `after` is the `next` of the page before, absent for the first.

  kvPage (ref: string, after: string | undefined, limit: number): Page<{ key: string, value: unknown }> {
    return this.#spaces.byRef(ref).kvPage(cursorKey(after), pageLimit(limit))
  }

  ledgerPage (ref: string, after: string | undefined, limit: number): Page<unknown> {
    return this.#spaces.byRef(ref).ledgerPage(cursorKey(after), pageLimit(limit))
  }
}

function kvPutBody (key: string, value: unknown): Body {
  return { t: 'kv.put', key: checkedKey(key), value }
}

function kvDelBody (key: string): Body {
  return { t: 'kv.del', key: checkedKey(key) }
}

function counterAddBody (name: string, delta: number): Body {
  if (!Number.isSafeInteger(delta)) {
    throw new NodeError('BAD_INPUT', `${delta} is not a whole number; counter add takes an integer like 5 or -3`)
  }
  // An add of 0 would be signed, stored and synced to every member, and change nothing: refused, not "ok".
  if (delta === 0) {
    throw new NodeError('BAD_INPUT', 'counter add 0 changes nothing; add a non-zero integer like 5 or -3')
  }
  return { t: 'counter.add', name: checkedName(name), delta }
}

function checkedKey (key: string): string {
  if (key === '' || Buffer.byteLength(key) > KEY_BYTES_MAX) {
    throw new NodeError('BAD_INPUT', 'a kv key is 1 to 1024 bytes')
  }
  return key
}

/** A counter's name: every node refuses one longer than NAME_BYTES_MAX, so it is refused here before it is signed. */
function checkedName (name: string): string {
  const size = Buffer.byteLength(name)
  if (name === '' || size > NAME_BYTES_MAX) {
    throw new NodeError('BAD_INPUT', `a counter name is 1 to ${NAME_BYTES_MAX} bytes of UTF-8 (this one is ${size}); ` +
      'choose a shorter name')
  }
  return name
}
