import path from 'node:path'

/**
 * Node's arguments for a bench process that runs as a samepage daemon does: the daemon's V8 flags
 * (daemon-v8.ts) set before its modules load, as bin/samepage.js sets them before it imports the daemon. An
 * `import './daemon-v8.ts'` at the top of the script is not enough: Node loads and compiles every module a
 * script imports before it runs the first, and that loading had grown the young generation to 16 MiB
 * semi-spaces (a daemon's stay at 1 MiB). Without a script: the arguments alone (for fork's execArgv).
 */
export function daemonLike (script?: string): string[] {
  const flags = ['--import', path.join(import.meta.dirname, 'daemon-v8.ts')]
  return script === undefined ? flags : [...flags, script]
}
