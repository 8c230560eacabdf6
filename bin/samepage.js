#!/usr/bin/env node
// samepage's command line. A plain JS shim: samepage is TypeScript, run by
// Node 24's type stripping in a checkout, or built to dist/ in an installed
// package (Node strips no types under node_modules). An older Node is told
// what to do instead of failing on the import.
import { existsSync } from 'node:fs'

const major = Number(process.versions.node.split('.')[0])
if (major < 24) {
  console.error(`samepage needs Node 24 (this is Node ${process.versions.node}); run it through npm (npm exec samepage -- ...) or install Node 24`)
  process.exit(1)
}
const built = new URL('../dist/cli/main.js', import.meta.url)
await import(existsSync(built) ? built.href : '../src/cli/main.ts')
