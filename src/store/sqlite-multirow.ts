import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite'

/**
 * Rows of one table inserted several per statement. A catch-up writes two
 * rows per entry (the entry, its kv row), and node:sqlite's cost per
 * statement run (the call, binding, step, reset) was about a third of the
 * store's time per row: 64 rows per run took ~0.7 of the time of one each
 * (100,000 entry rows, one transaction per 1,024).
 *
 * Rows are inserted in the order given, so a batch's writes land as if run
 * one by one; the caller hands them over before anything that must see them
 * runs, inside its transaction.
 */

/** Rows per statement, largest first: full chunks of the first, the rest in the smaller ones. */
const ROWS_PER_RUN = [64, 8, 1] as const

export class MultiRowInsert {
  readonly #statements: ReadonlyMap<number, StatementSync>
  readonly #width: number

  /** Rows of `width` parameters, as `${insert} VALUES (?, ...), ... ${suffix}`. */
  constructor (db: DatabaseSync, insert: string, width: number, suffix = '') {
    this.#width = width
    const row = `(${new Array<string>(width).fill('?').join(', ')})`
    const sql = (rows: number): string => `${insert} VALUES ${new Array<string>(rows).fill(row).join(', ')} ${suffix}`
    this.#statements = new Map(ROWS_PER_RUN.map(rows => [rows, db.prepare(sql(rows))]))
  }

  /** Inserts the rows whose parameters `params` holds end to end (a multiple of `width`), in order. */
  run (params: readonly SQLInputValue[]): void {
    if (params.length % this.#width !== 0) throw new RangeError('store: a row with the wrong number of values')
    let at = 0
    for (const rows of ROWS_PER_RUN) {
      const size = rows * this.#width
      const stmt = this.#statements.get(rows) as StatementSync
      for (; params.length - at >= size; at += size) stmt.run(...params.slice(at, at + size))
    }
  }
}
