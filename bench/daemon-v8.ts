/**
 * The V8 setting a samepage daemon runs with (bin/samepage.js, for `start`):
 * the young generation kept at its first size instead of growing to 64 MiB
 * per semi-space while a process allocates fast. The bench's node processes
 * are daemons in all but name, so they run with it too, or their memory
 * would not be a daemon's. Imported first, before anything allocates.
 * (Given on the command line instead, the same flag left the young
 * generation growing here: set it at run time, as the daemon does.)
 */
import v8 from 'node:v8'

v8.setFlagsFromString('--semi-space-growth-factor=1')
