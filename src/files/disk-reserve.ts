/**
 * Free disk kept for the node's own store (decision 19): a file is written
 * into a folder only if, after it, at least the reserve stays free on the
 * folder's disk, so that a file of nearly the free space cannot leave the
 * store unable to commit. config.json `diskReserveBytes` sets it; by default
 * it is 1% of the disk but at least 256 MiB, and never more than 5% of the
 * disk (so a small disk still takes small files).
 */
const DISK_RESERVE_MIN_BYTES = 256 * 1024 * 1024
const DISK_RESERVE_SHARE = 0.01
const DISK_RESERVE_CAP_SHARE = 0.05

export function diskReserveBytes (totalBytes: number, configured: number | undefined): number {
  if (configured !== undefined) return configured
  const wanted = Math.max(totalBytes * DISK_RESERVE_SHARE, DISK_RESERVE_MIN_BYTES)
  return Math.floor(Math.min(wanted, totalBytes * DISK_RESERVE_CAP_SHARE))
}
