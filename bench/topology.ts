import type { Random } from '../test/sim/random.ts'

/** A random sparse connected graph: a random spanning tree plus `extraPerNode` random edges per node. */
export function sparseGraph (rng: Random, nodes: number, extraPerNode: number): [number, number][] {
  const edges = new Set<string>()
  const out: [number, number][] = []
  const add = (a: number, b: number): void => {
    if (a === b) return
    const k = a < b ? `${a}-${b}` : `${b}-${a}`
    if (edges.has(k)) return
    edges.add(k)
    out.push([a, b])
  }
  const order = rng.shuffle([...Array(nodes).keys()])
  for (let i = 1; i < order.length; i++) add(order[i] as number, order[rng.int(0, i)] as number)
  for (let n = 0; n < nodes; n++) for (let k = 0; k < extraPerNode; k++) add(n, rng.int(0, nodes))
  return out
}

/**
 * Naive flooding over the same graph and latencies: every node re-sends the
 * entry to every neighbour but the one it came from, on first receipt.
 * Returns the copies each node received.
 */
export function floodCopies (nodes: number, edges: readonly (readonly [number, number, number])[], origin: number): number[] {
  const adj: [number, number][][] = Array.from({ length: nodes }, () => [])
  for (const [a, b, latencyMs] of edges) { adj[a]?.push([b, latencyMs]); adj[b]?.push([a, latencyMs]) }
  const copies = new Array<number>(nodes).fill(0)
  const seen = new Array<boolean>(nodes).fill(false)
  // Events in time order; a simple sorted array is fine at these sizes.
  const queue: [number, number, number][] = [[0, origin, -1]]
  while (queue.length > 0) {
    queue.sort((x, y) => x[0] - y[0])
    const [t, node, from] = queue.shift() as [number, number, number]
    if (from !== -1) copies[node] = (copies[node] ?? 0) + 1
    if (seen[node] === true) continue
    seen[node] = true
    for (const [next, latencyMs] of adj[node] ?? []) if (next !== from) queue.push([t + latencyMs, next, node])
  }
  return copies
}
