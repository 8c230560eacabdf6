import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { loadOrCreateIdentity } from '../../src/identity/index.ts'
import { SpaceReplica } from '../../src/space/index.ts'
import { SqliteStore } from '../../src/store/index.ts'
import { cli, eventually, ok, startDaemon, stop, tempRoot } from './harness.ts'
import type { Daemon } from './harness.ts'
import { openBrowser } from './browser.ts'

/**
 * A space's name is its creator's choice, a peer's text like a report's: the dashboard shows it with its control and
 * bidirectional characters as U+FFFD, as the CLI does (a U+202E makes "invoice\u202Egnp.exe" read "invoiceexe.png"),
 * in the Spaces table and in every space <select>. `space create` refuses such a name, so the hostile creator B
 * writes its space into its store before it starts, as a modified node would.
 */
/** The characters ids/printable.ts turns into U+FFFD, but for line breaks and tabs (the page's own markup holds those). */
const BIDI_OR_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/
const HOSTILE_NAME = 'invoice\u202Egnp.exe'

const root = tempRoot()
const daemons: Daemon[] = []
let context: BrowserContext | undefined
let page: Page

before(async () => {
  const bDir = path.join(root, 'b')
  fs.mkdirSync(bDir, { mode: 0o700 })
  const keyPair = loadOrCreateIdentity(bDir) // before the store: a store without its key is refused
  const store = SqliteStore.open(path.join(bDir, 'store.db'))
  SpaceReplica.create(store, keyPair, HOSTILE_NAME, Date.now())
  store.close()
  daemons.push(await startDaemon(path.join(root, 'a')), await startDaemon(bDir))
  const [a, b] = daemons as [Daemon, Daemon]
  ok(a.dir, 'space', 'join', ok(b.dir, 'space', 'invite', HOSTILE_NAME, '--role', 'writer').token as string)
  ;({ context, page } = await openBrowser(root))
})

after(async () => {
  await context?.close().catch(() => {})
  for (const d of daemons) await stop(d, 'SIGKILL')
  fs.rmSync(root, { recursive: true, force: true })
})

test('space create refuses a name with a bidi override, naming the character', () => {
  const [a] = daemons as [Daemon]
  const r = cli(a.dir, 'space', 'create', 'report\u202Etxt.exe')
  assert.equal(r.code, 2, r.stderr)
  assert.match(r.stderr, /U\+202E/)
})

test('a space name chosen by a peer reaches the dashboard without its bidi override', { timeout: 240_000 }, async () => {
  const [a] = daemons as [Daemon]
  await page.goto(ok(a.dir, 'dashboard').url as string)
  const shown = await eventually('the page lists the space', async () => await page.evaluate(() => {
    const d = (globalThis as any).document
    return {
      folders: d.querySelector('[data-testid="folders"]')?.textContent ?? '',
      options: [...d.querySelectorAll('select[data-spaces] option')].map((o: any) => o.textContent as string),
      values: [...d.querySelectorAll('select[data-spaces] option')].map((o: any) => o.value as string)
    }
  }), v => v.folders.includes('invoice') && v.options.some(o => o.includes('invoice')))
  const at = shown.folders.indexOf('invoice')
  assert.equal(shown.folders.slice(at, at + HOSTILE_NAME.length), 'invoice\ufffdgnp.exe', 'the Spaces table')
  const options = shown.options.filter(o => o.includes('invoice'))
  assert.ok(options.length > 0)
  for (const o of options) assert.doesNotMatch(o, BIDI_OR_CONTROL, `a space <option> shows ${JSON.stringify(o)}`)
  // What the page sends back is still the space's exact id.
  const spaces = ok(a.dir, 'space', 'list') as { id: string, name: string }[]
  const held = spaces.find(s => s.name === HOSTILE_NAME)
  assert.ok(held !== undefined && shown.values.includes(held.id), 'the option\'s value is the space id')
})
