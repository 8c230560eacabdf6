import { Node } from '../../src/node/index.ts'

/**
 * Run as a child process by wal-after-kill.test.ts: a node in `dir` whose
 * WAL syncs never complete commits a group of live writes (committed, never
 * synced, never acknowledged), says so on stdout, and waits to be killed.
 */
const dir = process.argv[2]
if (dir === undefined) throw new Error('usage: killed-writer.ts DIR')
const node = Node.open({ dir, walFsync: async () => { await new Promise<void>(() => {}) } })
const { id } = node.createSpace('team')
for (let i = 0; i < 100; i++) void node.kvPutGrouped(id, `k${i}`, `v${i}`)
setImmediate(() => setImmediate(() => {
  process.stdout.write(`committed ${node.kvList(id).length}\n`)
}))
setInterval(() => {}, 1000)
