/**
 * What test/bench/daemon-like.test.ts starts as the late-joiner bench starts its peers: it imports the
 * daemon's V8 settings first and the node after, as bench/latejoin-peer.ts does, and prints the size of V8's
 * young generation once everything is loaded.
 */
import '../../bench/daemon-v8.js'
import v8 from 'node:v8'
import '../../src/node/index.ts'

const newSpace = v8.getHeapSpaceStatistics().find(s => s.space_name === 'new_space')
console.log(JSON.stringify({ newSpaceBytes: newSpace?.space_size }))
