/**
 * The V8 settings a samepage daemon runs with (lib/daemon-v8.js; bin/samepage.js sets them for `start`).
 * The bench's node processes are daemons in all but name, so they run with them too, or their memory
 * would not be a daemon's. Imported first, before anything allocates. Plain JavaScript: preloaded as
 * TypeScript, it made every such process load Node's type stripper and keep it (~17-20 MB of RSS; a daemon
 * runs bundled JavaScript and never loads it).
 */
import { useDaemonV8Flags } from '../lib/daemon-v8.js'

useDaemonV8Flags()
