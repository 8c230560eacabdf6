import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'

/**
 * The layout is a rule, checked here (as tigerbeetle's tidy.zig checks its style):
 *   - imports point down the layers only, and into another folder only through its index.ts;
 *   - sync/ and space/ are pure: no network, no timers, no clock and no randomness of
 *     their own (the time comes in as `nowMs`), so the simulator runs them unchanged.
 */
const SRC = path.join(import.meta.dirname, '..', 'src')

/** What each folder may import (besides itself and npm packages allowed below). */
const ALLOWED: Record<string, readonly string[]> = {
  ids: [],
  log: [],
  'atomic-file': [],
  identity: ['atomic-file', 'ids'],
  codec: ['ids'],
  store: ['codec', 'ids'],
  space: ['store', 'codec', 'identity', 'ids'],
  sync: ['space', 'store', 'codec', 'identity', 'ids'],
  blocks: ['codec', 'ids'],
  files: ['blocks', 'codec', 'atomic-file', 'ids'],
  net: ['sync', 'blocks', 'space', 'store', 'codec', 'identity', 'ids'],
  telemetry: ['codec', 'identity', 'ids'],
  node: ['log', 'files', 'telemetry', 'net', 'sync', 'blocks', 'space', 'store', 'codec', 'identity', 'atomic-file', 'ids'],
  api: ['node', 'codec', 'identity', 'atomic-file', 'ids'],
  cli: ['log', 'api', 'node', 'codec', 'identity', 'ids']
}

const PURE = ['space', 'sync', 'codec', 'blocks', 'ids']
const FORBIDDEN_IN_PURE = [
  { pattern: /from ['"](node:)?(net|dgram|http|https|tls|child_process|worker_threads|fs|timers)['"]/, what: 'I/O module' },
  { pattern: /from ['"](libp2p|@libp2p\/[^'"]+|@chainsafe\/[^'"]+)['"]/, what: 'libp2p' },
  { pattern: /\bDate\.now\(|\bnew Date\(\)/, what: 'the wall clock (take nowMs as input)' },
  { pattern: /\bMath\.random\(/, what: 'randomness (take a random source as input)' },
  { pattern: /\bset(Timeout|Interval|Immediate)\(/, what: 'a timer (return a deadline instead)' },
  { pattern: /\bperformance\.now\(/, what: 'the clock' }
]

function sources (dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(d => {
    const p = path.join(dir, d.name)
    return d.isDirectory() ? sources(p) : d.name.endsWith('.ts') ? [p] : []
  })
}

const files = sources(SRC).map(file => ({ file, folder: path.relative(SRC, file).split(path.sep)[0] as string, text: fs.readFileSync(file, 'utf8') }))

test('every source folder is known to the layering rule', () => {
  const folders = new Set(files.map(f => f.folder))
  for (const folder of folders) assert.ok(folder in ALLOWED, `src/${folder}/ has no place in ALLOWED (test/layers.test.ts): decide what it may import`)
})

test('imports point down the layers, through each folder\'s index.ts', () => {
  const problems: string[] = []
  for (const { file, folder, text } of files) {
    for (const m of text.matchAll(/from ['"](\.[^'"]+)['"]/g)) {
      const target = path.resolve(path.dirname(file), m[1] as string)
      const rel = path.relative(SRC, target).split(path.sep)
      const targetFolder = rel[0] as string
      if (targetFolder === folder) continue
      if (!(ALLOWED[folder] ?? []).includes(targetFolder)) problems.push(`${path.relative(SRC, file)} imports ${targetFolder}/ (not below ${folder}/)`)
      else if (rel.length !== 2 || rel[1] !== 'index.ts') problems.push(`${path.relative(SRC, file)} imports ${rel.join('/')}: go through ${targetFolder}/index.ts`)
    }
  }
  assert.deepEqual(problems, [])
})

test('sync/, space/, codec/, blocks/ and ids/ do no I/O and read no clock or randomness of their own', () => {
  const problems: string[] = []
  for (const { file, folder, text } of files) {
    if (!PURE.includes(folder)) continue
    const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '')
    for (const rule of FORBIDDEN_IN_PURE) if (rule.pattern.test(code)) problems.push(`${path.relative(SRC, file)} uses ${rule.what}`)
  }
  assert.deepEqual(problems, [])
})

test('the rule itself catches a violation', () => {
  assert.ok(FORBIDDEN_IN_PURE.some(r => r.pattern.test('const t = Date.now()')))
  assert.ok(FORBIDDEN_IN_PURE.some(r => r.pattern.test("import { tcp } from '@libp2p/tcp'")))
  assert.ok(!(ALLOWED.space ?? []).includes('sync'), 'space/ must not import sync/')
})
