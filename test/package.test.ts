import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'

/**
 * What an installed package needs, read from the code: every package a shipped file imports (src/, lib/,
 * bin/) is a dependency, not a devDependency, which `npm install` of the package leaves out; and the
 * library's entry point (lib/index.js, which must list its names) exports what src/node/index.ts does.
 * Text only, no install: well under a second.
 */
const ROOT = path.join(import.meta.dirname, '..')
const SHIPPED_CODE = ['src', 'lib', 'bin']
const CODE = /\.(ts|js|mjs)$/
/** `from 'x'`, `import 'x'`, `import('x')`, `import.meta.resolve('x')`; type-only imports too (a .d.ts names them). */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s+|\bimport\(\s*|\bimport\.meta\.resolve\(\s*)['"]([^'"\s]+)['"]/g

interface PackageJson { dependencies?: Record<string, string>, devDependencies?: Record<string, string> }

function codeFiles (dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter(f => CODE.test(f) && !f.endsWith('.d.ts'))
    .map(f => path.join(dir, f))
}

/** The package a bare specifier names: `@scope/name/sub` is `@scope/name`, `name/sub` is `name`. */
function packageOf (specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return undefined
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]
}

function importedPackages (): Map<string, string> {
  const firstUse = new Map<string, string>()
  for (const top of SHIPPED_CODE) {
    for (const file of codeFiles(path.join(ROOT, top))) {
      for (const [, specifier] of fs.readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
        const name = packageOf(specifier!)
        if (name !== undefined && !firstUse.has(name)) firstUse.set(name, path.relative(ROOT, file))
      }
    }
  }
  return firstUse
}

test('every package the shipped code imports is a dependency, none only a devDependency', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as PackageJson
  const imported = importedPackages()
  assert.ok(imported.has('libp2p') && imported.has('@libp2p/crypto'), 'the scan finds the imports')
  for (const [name, file] of imported) {
    assert.ok(pkg.dependencies?.[name] !== undefined,
      `${file} imports ${name}: put it in "dependencies" (an installed package gets no devDependencies)`)
    assert.equal(pkg.devDependencies?.[name], undefined, `${name} is in both dependencies and devDependencies`)
  }
})

test('the scan reads every form of import', () => {
  const text = [
    "import { a } from '@scope/pkg/sub'", "import type { B } from 'plain/deep/path'", "import 'side-effect'",
    "await import('lazy')", "import.meta.resolve('asset/dist/x.mjs')", "import x from './local.ts'",
    "import fs from 'node:fs'"
  ].join('\n')
  const names = [...text.matchAll(SPECIFIER)].map(m => packageOf(m[1]!)).filter(n => n !== undefined)
  assert.deepEqual(names, ['@scope/pkg', 'plain', 'side-effect', 'lazy', 'asset'])
})

test('lib/index.js, the library\'s entry point, exports exactly what src/node/index.ts does', async () => {
  const source = await import('../src/node/index.ts')
  const entry = await import('../lib/index.js') as Record<string, unknown>
  assert.deepEqual(Object.keys(entry).sort(), Object.keys(source).sort())
  assert.equal(entry.Node, source.Node, 'in a checkout it is the source itself')
})
