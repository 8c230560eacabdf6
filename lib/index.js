/**
 * The library's entry point (package.json "exports"): src/node/index.ts in a checkout, its build
 * dist/node/index.js in an installed package (lib/tree.js says why), so `import { Node } from
 * '@samepage-sync/samepage'` works as the README writes it in both, and never runs a stale build.
 * The names are listed because an ES module cannot re-export a module chosen at run time;
 * test/build.test.ts holds this list to src/node/index.ts's.
 */
import { entryOf } from './tree.js'

const library = await import(entryOf('src/node/index.ts', 'dist/node/index.js'))

export const {
  ALERT_KINDS, API_PORT, CONFIG_FILE, FOLDER_MODES, LogLimiter, Node, NodeError, PAGE_ROWS_MAX, PEER_PORT,
  createLogger, decodeInviteToken, encodeInviteToken, isMultiaddr, noteOutOfFiles, openFileLimit, readConfig,
  rememberPort, stablePort
} = library
