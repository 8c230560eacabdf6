/**
 * Questions about a set of folder-relative paths, answered from the paths sorted, in the time and memory of sorting
 * them. A Set of every directory prefix cost each path its length times its depth: 9,000 records of deep paths (a
 * writer's right) overflowed it after a minute of CPU, at every pass; a tree of the prefixes, one node each, held
 * 483 MiB for 9,000 paths 128 levels deep (a review's probe, and its capped form).
 */

/** The paths with another of them below (`x` when `x/y` is one too). */
export function withPathsBelow (paths: readonly string[]): Set<string> {
  const sorted = [...paths].sort(byCodeUnits)
  const out = new Set<string>()
  for (const p of sorted) {
    // `x/` sorts after `x` and anything below it right from there; `x-y` or `x.y` may sit between (they sort first).
    const below = `${p}/`
    const at = firstAtLeast(sorted, below)
    if (at < sorted.length && (sorted[at] as string).startsWith(below)) out.add(p)
  }
  return out
}

/**
 * For each path (a file), in order, how many of its directories no path before it in sorted order has: each
 * directory of the set counted once, by the first path in that order under it. In sorted order the path before one
 * shares the longest prefix with it of all those before it.
 */
export function newDirectories (paths: readonly string[]): number[] {
  const order = paths.map((p, i) => i).sort((a, b) => byCodeUnits(paths[a] as string, paths[b] as string))
  const out = new Array<number>(paths.length).fill(0)
  let before = ''
  for (const i of order) {
    const p = paths[i] as string
    let common = 0
    while (common < p.length && common < before.length && p[common] === before[common]) common++
    // The directories of `p` wholly inside the common prefix, each followed by '/' in both.
    let shared = 0
    for (let k = 0; k < common; k++) if (p[k] === '/') shared++
    let dirs = 0
    for (let k = 0; k < p.length; k++) if (p[k] === '/') dirs++
    out[i] = dirs - shared
    before = p
  }
  return out
}

const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

function firstAtLeast (sorted: readonly string[], x: string): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((sorted[mid] as string) < x) lo = mid + 1
    else hi = mid
  }
  return lo
}
