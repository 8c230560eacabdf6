import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'

/**
 * The folder planner is pure, as blocks/ and sync/ are (test/layers.test.ts):
 * plan.ts and every module it imports for their values (type-only imports
 * are erased) do no I/O and read no clock, no timer and no randomness, so
 * the planner's tests run it on plain data. node:path is allowed (string
 * functions only).
 */
const FILES = path.join(import.meta.dirname, '..', '..', 'src', 'files')
const FORBIDDEN = [
  { pattern: /from ['"](node:)?(fs|fs\/promises|net|child_process|worker_threads|timers)['"]/, what: 'an I/O module' },
  { pattern: /from ['"]@parcel\/watcher['"]/, what: 'the watcher' },
  { pattern: /\bDate\.now\(|\bnew Date\(\)/, what: 'the wall clock' },
  { pattern: /\bMath\.random\(/, what: 'randomness' },
  { pattern: /\bset(Timeout|Interval|Immediate)\(/, what: 'a timer' },
  { pattern: /\bperformance\.now\(/, what: 'the clock' }
]

/** The modules of src/files/ that `entry` imports for their values, transitively (itself included). */
function valueImports (entry: string): string[] {
  const seen = new Set<string>()
  const visit = (file: string): void => {
    if (seen.has(file)) return
    seen.add(file)
    const text = fs.readFileSync(path.join(FILES, file), 'utf8')
    for (const m of text.matchAll(/^import (?!type )[^'"]*from '\.\/([^']+)'/gm)) visit(m[1] as string)
  }
  visit(entry)
  return [...seen]
}

test('the planner and what it imports do no I/O and read no clock, timer or randomness', () => {
  const modules = [...new Set([...valueImports('plan.ts'), ...valueImports('conflict-list.ts'), ...valueImports('plan-keep.ts')])]
  assert.ok(modules.includes('versions.ts'), `the import walk found ${modules.join(', ')}`)
  const problems: string[] = []
  for (const file of modules) {
    const text = fs.readFileSync(path.join(FILES, file), 'utf8')
    for (const { pattern, what } of FORBIDDEN) if (pattern.test(text)) problems.push(`src/files/${file} uses ${what}`)
  }
  assert.deepEqual(problems, [])
})
