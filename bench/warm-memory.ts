/**
 * The page cache made ready just before a folder case's timed part, so that both systems meet the machine alike.
 *
 * Why: on this VM, writing to new pages of the page cache is fast only with memory that held the page cache a
 * moment ago; a few seconds after it is freed it is slow again, the time going into the copy itself (`perf`:
 * copy_folio_from_iter_atomic, ~94% of a dd; most likely the host backing freed memory again). Measured with dd on
 * 2026-12-05, writing 3 GiB to a new file: 0.6 CPU-s right after 3 GiB was deleted, 4.1 s five seconds after, 7–16 s
 * twenty seconds after. Memory touched by another process and freed did not help (9.9 s against 10.7). The folder
 * cases write what they move into the page cache, and samepage ran first in each pair with Syncthing right after it,
 * on what samepage's run had just freed: the 1 GiB fan-out to 3 cost samepage's receivers ~10 CPU-s each on cold
 * memory and ~5 s three runs later back to back; Syncthing's 4.7 s right after samepage and 6.6–7.1 s after a pause.
 * So before the clock starts, as many bytes as the case will write are written to a scratch file and deleted, and the
 * case's writes take those pages while they are ready. Not synced, so nothing of it need reach the disk; a machine
 * of its own pays none of this, and nothing here changes what either system does.
 */
import fs from 'node:fs'
import path from 'node:path'

const PIECE_BYTES = 4 * 1024 * 1024
/** Never more than this. */
const WARM_MAX_BYTES = 6 * 1024 ** 3

/** Writes `bytes` (at most WARM_MAX_BYTES) to a scratch file under `dir`, then deletes it. */
export async function warmPageCache (dir: string, bytes: number): Promise<void> {
  const file = path.join(dir, `.bench-warm-${process.pid}`)
  const piece = Buffer.alloc(PIECE_BYTES, 90)
  const fh = await fs.promises.open(file, 'w')
  try {
    for (let written = 0; written < Math.min(bytes, WARM_MAX_BYTES); written += PIECE_BYTES) await fh.write(piece)
  } finally {
    await fh.close()
    await fs.promises.rm(file, { force: true })
  }
}
