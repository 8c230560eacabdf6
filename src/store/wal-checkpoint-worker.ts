import { DatabaseSync } from 'node:sqlite'
import { parentPort, workerData } from 'node:worker_threads'

/**
 * The store's checkpoint thread (wal-checkpoint.ts): its own connection to
 * the database, which copies the WAL's frames into the database file when
 * asked (PASSIVE: it never blocks the main connection's writers, and copies
 * what was committed when it began). synchronous=FULL here only governs the
 * checkpoint's own syncs: the WAL before the copy, the database file after
 * it. On 'close' it closes its connection, then flags `closed` in the
 * shared word so a synchronous close() on the main thread can wait for it.
 */
interface Init { readonly file: string, readonly closed: SharedArrayBuffer }

const init = workerData as Init
const closedFlag = new Int32Array(init.closed)
let db: DatabaseSync | undefined

function checkpoint (): { log: number, checkpointed: number } {
  db ??= openConnection()
  const row = db.prepare('PRAGMA wal_checkpoint(PASSIVE)').get() ?? {}
  return { log: Number(row['log'] ?? 0), checkpointed: Number(row['checkpointed'] ?? 0) }
}

function openConnection (): DatabaseSync {
  const opened = new DatabaseSync(init.file)
  opened.exec('PRAGMA synchronous = FULL')
  return opened
}

parentPort?.on('message', (message: 'checkpoint' | 'close') => {
  if (message === 'close') {
    db?.close()
    db = undefined
    Atomics.store(closedFlag, 0, 1)
    Atomics.notify(closedFlag, 0)
    parentPort?.close()
    return
  }
  try {
    parentPort?.postMessage({ done: checkpoint() })
  } catch (err) {
    parentPort?.postMessage({ failed: err instanceof Error ? err.message : String(err) })
  }
})
