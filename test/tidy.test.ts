import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'

/**
 * Style as a test, in the manner of tigerbeetle's src/tidy.zig (the layering
 * beside it is test/layers.test.ts):
 *   - no file in src/ over FILE_LINES_MAX lines, no line over LINE_COLUMNS_MAX columns;
 *   - no exported name in src/ that nothing imports (src/, test/, bench/, bin/ count as
 *     importers; a name re-exported by an index.ts counts only if something imports it
 *     from there); the library's entry points are the only exceptions, in ENTRY_POINTS;
 *   - telemetry/ is pure like sync/ and space/, except the files in TELEMETRY_IO.
 * Imports and exports are read line by line (statements start at column 0, as the
 * project's style writes them), not by a compiler: the whole test runs in well under a second.
 */
const ROOT = path.join(import.meta.dirname, '..')
const SRC = path.join(ROOT, 'src')
const FILE_LINES_MAX = 400
const LINE_COLUMNS_MAX = 120
const CHECKED_TEXT = /\.(ts|js|mjs|html|css)$/
const CODE = /\.(ts|js|mjs)$/

/** Modules whose every export is public on purpose: the package's face, not dead code. */
const ENTRY_POINTS: Readonly<Record<string, string>> = {
  'src/node/index.ts': 'the library: package.json "main" and "exports" point at its build, dist/node/index.js'
}

/** telemetry/ files that must do I/O or keep time, and why; the rest of telemetry/ is pure. */
const TELEMETRY_IO: Readonly<Record<string, string>> = {
  'src/telemetry/probes.ts': 'reads the host: load, memory, disk space (statfs) and temperature sensors',
  'src/telemetry/publisher.ts':
    'the driver: schedules publications and alert checks (timers), with the wall clock and Math.random as defaults'
}

const FORBIDDEN_IN_PURE = [
  {
    pattern: /from ['"](node:)?(net|dgram|http|https|tls|child_process|worker_threads|fs|os|timers)['"]/,
    what: 'an I/O module'
  },
  { pattern: /from ['"](libp2p|@libp2p\/[^'"]+|@chainsafe\/[^'"]+)['"]/, what: 'libp2p' },
  { pattern: /\bDate\.now\(|\bnew Date\(\)/, what: 'the wall clock (take nowMs as input)' },
  { pattern: /\bMath\.random\(/, what: 'randomness (take a random source as input)' },
  { pattern: /\bset(Timeout|Interval|Immediate)\(/, what: 'a timer (return a deadline instead)' },
  { pattern: /\bperformance\.now\(/, what: 'the clock' }
]

interface SourceFile {
  readonly file: string
  /** From the repository's root, with forward slashes: what a message names. */
  readonly rel: string
  readonly text: string
  readonly lines: readonly string[]
}

function walk (dir: string, keep: RegExp): string[] {
  if (!fs.existsSync(dir)) return []
  return fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name)).flatMap(d => {
    const p = path.join(dir, d.name)
    return d.isDirectory() ? (d.name === 'node_modules' ? [] : walk(p, keep)) : keep.test(d.name) ? [p] : []
  })
}

function read (file: string): SourceFile {
  const text = fs.readFileSync(file, 'utf8')
  return { file, rel: path.relative(ROOT, file).split(path.sep).join('/'), text, lines: text.split('\n') }
}

const srcFiles = walk(SRC, CHECKED_TEXT).map(read)

test('no file in src/ is over 400 lines', () => {
  const problems = srcFiles.filter(f => f.lines.length - (f.text.endsWith('\n') ? 1 : 0) > FILE_LINES_MAX).map(f =>
    `${f.rel}:${FILE_LINES_MAX + 1}: ${f.lines.length - 1} lines; split it by concern (one job per module), ` +
    `not into "helpers"`)
  assert.deepEqual(problems, [])
})

test('no line in src/ is over 120 columns', () => {
  const problems: string[] = []
  for (const f of srcFiles) {
    f.lines.forEach((line, i) => {
      const columns = [...line].length
      if (columns > LINE_COLUMNS_MAX) {
        problems.push(`${f.rel}:${i + 1}: ${columns} columns; break it (one argument, clause or property a line)`)
      }
    })
  }
  assert.deepEqual(problems, [])
})

test('telemetry/ does no I/O and reads no clock, except the files that must (TELEMETRY_IO)', () => {
  const problems: string[] = []
  for (const f of srcFiles) {
    if (!f.rel.startsWith('src/telemetry/') || !CODE.test(f.rel) || f.rel in TELEMETRY_IO) continue
    // Comments out, line breaks kept: the line numbers stay true.
    const code = f.lines.map(l => l.replace(/\/\/.*$/, '')).join('\n')
      .replace(/\/\*[\s\S]*?\*\//g, m => m.replace(/[^\n]/g, ''))
    code.split('\n').forEach((line, i) => {
      for (const rule of FORBIDDEN_IN_PURE) {
        if (rule.pattern.test(line)) {
          problems.push(`${f.rel}:${i + 1}: uses ${rule.what}; take it as input from node/, ` +
            'or add the file to TELEMETRY_IO in test/tidy.test.ts with the reason it must')
        }
      }
    })
  }
  for (const rel of Object.keys(TELEMETRY_IO)) {
    if (!fs.existsSync(path.join(ROOT, rel))) problems.push(`${rel} is in TELEMETRY_IO but does not exist: remove it`)
  }
  assert.deepEqual(problems, [])
})

// ---------------------------------------------------------------- exports nobody imports

/** One `import`/`export` statement, joined onto one line, with where it starts. */
interface Statement { readonly text: string, readonly line: number }

/** Top-level import and export statements: they start at column 0; a `{ … }` list may span lines. */
function statements (f: SourceFile): Statement[] {
  const out: Statement[] = []
  for (let i = 0; i < f.lines.length; i++) {
    const first = f.lines[i] as string
    if (!/^(import|export)\b/.test(first)) continue
    let text = first
    const listStatement = !DECLARATION_START.test(first)
    let j = i
    while (listStatement && depth(text) > 0 && j + 1 < f.lines.length) text += ' ' + (f.lines[++j] as string).trim()
    out.push({ text, line: i + 1 })
    i = j
  }
  return out
}

/** `export function …`, `export const …`: a declaration, whose braces are a body, not a list of names. */
const DECLARATION_START =
  /^export\s+(default\s+)?(async\s|function|class|abstract|const|let|var|interface|type\s+\w|declare|enum|namespace)/
const depth = (s: string): number => (s.match(/\{/g) ?? []).length - (s.match(/\}/g) ?? []).length

/** `a, type b, c as d` -> [[a, a], [b, b], [c, d]] as [name there, name here]. */
function names (list: string): Array<[string, string]> {
  return list.split(',').map(s => s.trim().replace(/^type\s+/, '')).filter(s => s !== '').map(s => {
    const m = /^(\S+)\s+as\s+(\S+)$/.exec(s)
    return m === null ? [s, s] : [m[1] as string, m[2] as string]
  })
}

interface ModuleExports {
  /** Exported name -> line. */
  readonly names: Map<string, number>
  /** Exported name -> where it comes from (a re-export: using it here uses that). */
  readonly reexports: Map<string, { readonly file: string, readonly name: string }>
  /** Exported name -> the module it is a namespace of (`export * as ns from`). */
  readonly namespaces: Map<string, string>
  /** `export * from` targets. */
  readonly stars: string[]
}

function resolve (from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined
  const target = path.resolve(path.dirname(from), spec)
  return fs.existsSync(target) ? target : undefined
}

const IMPORT = /^import\s+(type\s+)?(?:(\w+)\s*,?\s*)?(?:\{([^}]*)\}\s*)?(?:\*\s+as\s+(\w+)\s*)?from\s+['"]([^'"]+)['"]/
const EXPORT_FROM = /^export\s+(type\s+)?\{([^}]*)\}\s*from\s+['"]([^'"]+)['"]/
const EXPORT_STAR = /^export\s+(?:type\s+)?\*\s+(?:as\s+(\w+)\s+)?from\s+['"]([^'"]+)['"]/
const EXPORT_LOCAL = /^export\s+(type\s+)?\{([^}]*)\}\s*$/
const EXPORT_DECLARATION = new RegExp('^export\\s+(?:declare\\s+)?(?:default\\s+)?(?:async\\s+)?(?:abstract\\s+)?' +
  '(?:function\\*?|class|const|let|var|interface|type|enum|namespace)\\s+(\\w+)')

function exportsOf (f: SourceFile): ModuleExports {
  const mod: ModuleExports = { names: new Map(), reexports: new Map(), namespaces: new Map(), stars: [] }
  const imported = new Map<string, { file: string, name: string }>()
  for (const s of statements(f)) {
    const imp = IMPORT.exec(s.text)
    const target = (spec: string | undefined): string | undefined =>
      spec === undefined ? undefined : resolve(f.file, spec)
    if (imp !== null) {
      const from = target(imp[5])
      if (from === undefined) continue
      for (const [there, here] of names(imp[3] ?? '')) imported.set(here, { file: from, name: there })
      continue
    }
    const reexport = EXPORT_FROM.exec(s.text)
    if (reexport !== null) {
      const from = target(reexport[3])
      for (const [there, here] of names(reexport[2] as string)) {
        mod.names.set(here, s.line)
        if (from !== undefined) mod.reexports.set(here, { file: from, name: there })
      }
      continue
    }
    const star = EXPORT_STAR.exec(s.text)
    if (star !== null) {
      const from = target(star[2])
      if (from === undefined) continue
      if (star[1] === undefined) mod.stars.push(from)
      else { mod.names.set(star[1], s.line); mod.namespaces.set(star[1], from) }
      continue
    }
    const local = EXPORT_LOCAL.exec(s.text)
    if (local !== null) {
      for (const [there, here] of names(local[2] as string)) {
        mod.names.set(here, s.line)
        const origin = imported.get(there)
        if (origin !== undefined) mod.reexports.set(here, origin)
      }
      continue
    }
    const declaration = EXPORT_DECLARATION.exec(s.text)
    if (declaration !== null) mod.names.set(declaration[1] as string, s.line)
  }
  return mod
}

test('every exported name in src/ is imported somewhere (or is the library\'s, in ENTRY_POINTS)', () => {
  const importers = ['src', 'test', 'bench', 'bin'].flatMap(dir => walk(path.join(ROOT, dir), CODE)).map(read)
  const modules = new Map(importers.filter(f => f.file.startsWith(SRC + path.sep)).map(f => [f.file, exportsOf(f)]))
  const used = new Set<string>()

  const useAll = (file: string): void => { for (const name of modules.get(file)?.names.keys() ?? []) use(file, name) }
  function use (file: string, name: string): void {
    const mod = modules.get(file)
    const key = `${file}#${name}`
    if (mod === undefined || used.has(key)) return
    used.add(key)
    const origin = mod.reexports.get(name)
    if (origin !== undefined) use(origin.file, origin.name)
    const namespace = mod.namespaces.get(name)
    if (namespace !== undefined) useAll(namespace)
    if (!mod.names.has(name)) for (const star of mod.stars) use(star, name)
  }
  /** `ns.member` uses in a file, for a namespace import `ns` of `file` (whole-namespace uses mark everything). */
  function useMembers (importer: SourceFile, alias: string, file: string): void {
    const members = [...importer.text.matchAll(new RegExp(`\\b${alias}\\.(\\w+)`, 'g'))].map(m => m[1] as string)
    const bare = new RegExp(`\\b${alias}\\b(?!\\s*\\.)`, 'g')
    const bareUses = [...importer.text.matchAll(bare)].length
    if (bareUses > 1) useAll(file) // passed on as a whole (the import statement itself is one match)
    else for (const m of members) use(file, m)
  }

  for (const f of importers) {
    for (const s of statements(f)) {
      const imp = IMPORT.exec(s.text)
      if (imp !== null) {
        const from = resolve(f.file, imp[5] as string)
        if (from === undefined) continue
        if (imp[2] !== undefined) use(from, 'default')
        for (const [there] of names(imp[3] ?? '')) use(from, there)
        if (imp[4] !== undefined) useMembers(f, imp[4], from)
      }
      // A re-export (`export … from`, or `export { a }` of an imported a) is not a use: use() follows it
      // only when something imports the name from the re-exporting module.
    }
    // import('./x.ts') and typeof import('./x.ts'): the whole module, as the caller may use any of it.
    for (const m of f.text.matchAll(/\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
      const from = resolve(f.file, m[1] as string)
      if (from !== undefined) useAll(from)
    }
  }
  // A namespace imported by name from an index (`import { fields } from '../codec/index.ts'`): count its members.
  for (const f of importers) {
    for (const s of statements(f)) {
      const imp = IMPORT.exec(s.text)
      const from = imp === null ? undefined : resolve(f.file, imp[5] as string)
      if (imp === null || from === undefined) continue
      for (const [there, here] of names(imp[3] ?? '')) {
        const target = namespaceOf(modules, from, there)
        if (target !== undefined) useMembers(f, here, target)
      }
    }
  }
  for (const rel of Object.keys(ENTRY_POINTS)) useAll(path.join(ROOT, rel))

  const problems: string[] = []
  for (const [file, mod] of modules) {
    const rel = path.relative(ROOT, file).split(path.sep).join('/')
    for (const [name, line] of mod.names) {
      if (used.has(`${file}#${name}`) || mod.namespaces.has(name)) continue
      problems.push(mod.reexports.has(name)
        ? `${rel}:${line}: re-exports ${name}, which nothing imports from here: drop it from this list`
        : `${rel}:${line}: exports ${name}, which nothing imports: ` +
          'drop the `export` (or the code, if nothing uses it)')
    }
  }
  assert.deepEqual(problems, [])
})

/** The module a namespace export stands for, following re-exports (`export { fields }` of an `export * as`). */
function namespaceOf (modules: Map<string, ModuleExports>, file: string, name: string): string | undefined {
  const mod = modules.get(file)
  if (mod === undefined) return undefined
  const direct = mod.namespaces.get(name)
  if (direct !== undefined) return direct
  const origin = mod.reexports.get(name)
  return origin === undefined ? undefined : namespaceOf(modules, origin.file, origin.name)
}

test('the allow-lists name files that exist, and the package\'s entry points are on ENTRY_POINTS', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { main?: string, exports?: {} }
  const built = [pkg.main, ...JSON.stringify(pkg.exports ?? {}).match(/\.\/dist\/[^"]+\.js/g) ?? []]
    .filter((p): p is string => typeof p === 'string')
  for (const p of built) {
    const source = p.replace(/^\.?\/?dist\//, 'src/').replace(/\.js$/, '.ts')
    assert.ok(source in ENTRY_POINTS, `package.json points at ${p}: put ${source} in ENTRY_POINTS with the reason`)
  }
  for (const rel of Object.keys(ENTRY_POINTS)) assert.ok(fs.existsSync(path.join(ROOT, rel)), `${rel} does not exist`)
})

test('the rules catch what they are meant to', () => {
  const fake = (text: string): SourceFile =>
    ({ file: path.join(SRC, 'x', 'y.ts'), rel: 'src/x/y.ts', text, lines: text.split('\n') })
  const mod = exportsOf(fake([
    'export function a () {}', 'export {', '  b,', '  c as d', '}', "export type { E } from './e.ts'"
  ].join('\n')))
  assert.deepEqual([...mod.names.keys()].sort(), ['E', 'a', 'b', 'd'])
  assert.deepEqual(names('type A, b as c'), [['A', 'A'], ['b', 'c']])
  assert.ok(FORBIDDEN_IN_PURE.some(r => r.pattern.test('const t = Date.now()')))
  assert.ok(FORBIDDEN_IN_PURE.some(r => r.pattern.test('setInterval(f, 1000)')))
})
