#!/usr/bin/env node
// samepage's command line. A plain JS shim: samepage is TypeScript run by
// Node 24's type stripping, so an older Node is told what to do instead of
// failing on the .ts import.
const major = Number(process.versions.node.split('.')[0])
if (major < 24) {
  console.error(`samepage needs Node 24 (this is Node ${process.versions.node}); run it through npm (npm exec samepage -- ...) or install Node 24`)
  process.exit(1)
}
await import('../src/cli/main.ts')
