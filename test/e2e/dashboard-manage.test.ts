import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { chromium } from 'playwright-core'
import type { BrowserContext, Page } from 'playwright-core'
import { eventually, ok, startDaemon, stop, tempRoot } from './harness.ts'
import type { Daemon } from './harness.ts'

/**
 * The dashboard that manages, in a real browser: two daemons on 127.0.0.1,
 * and Debian's Chromium, headless, driven by playwright-core, on each one's
 * page. Every action is done through the page's forms and buttons, and
 * checked both on the page (it refreshes what it shows) and through the CLI
 * (it took effect in the daemon): create a space (a taken name shows
 * NAME_TAKEN), invite (the token shown), join on the second daemon with
 * that token, grant and revoke, share a folder, see its conflicts and keep a version, stop
 * sharing it, and errors shown with their codes.
 */
const CHROMIUM = '/usr/bin/chromium'
const ARTIFACTS = path.join(import.meta.dirname, '..', '..', 'artifacts', 'dashboard')
const WAIT_MS = 180_000

/** What an action's result line ended with: `ok` or `bad`, its text, and the error code shown, if any. */
interface Outcome { readonly state: string, readonly text: string, readonly code: string }

/**
 * Submits a form (or clicks a button) and waits for its result line to leave "pending": the page says
 * either what took effect or why not. The line is marked stale first, so an earlier outcome never counts.
 */
async function act (page: Page, result: string, click: () => Promise<void>): Promise<Outcome> {
  const line = page.locator(`[data-testid="${result}"]`)
  await line.evaluate(el => { (el as any).dataset.state = 'stale' })
  await click()
  await page.locator(`[data-testid="${result}"]:is([data-state="ok"], [data-state="bad"])`).waitFor({ timeout: WAIT_MS })
  const code = line.locator('[data-testid="error-code"]')
  return {
    state: await line.getAttribute('data-state') ?? '',
    text: await line.innerText(),
    code: await code.count() === 0 ? '' : await code.innerText()
  }
}

/** Fills a form's fields (inputs by value, selects by an option's label), then submits it and waits as act() does. */
async function submit (page: Page, form: string, fields: Record<string, string>, result: string): Promise<Outcome> {
  const f = page.locator(`[data-testid="${form}"]`)
  for (const [name, value] of Object.entries(fields)) {
    const el = f.locator(`[name="${name}"]`)
    if (await el.evaluate(e => e.tagName) === 'SELECT') await el.selectOption({ label: value })
    else await el.fill(value)
  }
  return await act(page, result, async () => await f.locator('button[type="submit"]').click())
}

/** A member's row in the members table: its role as shown, or undefined when the peer is not listed. */
async function memberRole (page: Page, peerId: string): Promise<string | undefined> {
  const row = page.locator(`[data-testid="members-table"] tr[data-peer="${peerId}"]`)
  if (await row.count() === 0) return undefined
  return (await row.locator('td').nth(1).innerText()).trim()
}

describe('the dashboard manages the node, in a real browser', { timeout: 600_000 }, () => {
  const root = tempRoot()
  const daemons: Daemon[] = []
  const pageErrors: string[] = []
  let context: BrowserContext | undefined
  let pageA: Page
  let pageB: Page
  let inviteToken = ''

  before(async () => {
    if (!fs.existsSync(CHROMIUM)) {
      throw new Error(`Chromium is missing at ${CHROMIUM}; install it with: apt-get install -y chromium (CI's .ci/run does)`)
    }
    daemons.push(...await Promise.all([1, 2].map(async i => await startDaemon(path.join(root, `node${i}`)))))
    context = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(root, 'chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
      viewport: { width: 1440, height: 1400 },
      timeout: WAIT_MS
    })
    context.setDefaultTimeout(WAIT_MS)
    pageA = context.pages()[0] ?? await context.newPage()
    pageB = await context.newPage()
    for (const p of [pageA, pageB]) {
      p.on('pageerror', err => pageErrors.push(err.message))
      // The page keeps its Content-Security-Policy: nothing it does may be blocked by it.
      p.on('console', msg => { if (/Content.Security.Policy/i.test(msg.text())) pageErrors.push(msg.text()) })
    }
    const [a, b] = daemons as [Daemon, Daemon]
    for (const [p, d] of [[pageA, a], [pageB, b]] as const) {
      const res = await p.goto(ok(d.dir, 'dashboard').url as string)
      assert.equal(res?.status(), 200)
      await p.locator('[data-testid="live"]').getByText('live', { exact: true }).waitFor()
    }
    fs.mkdirSync(ARTIFACTS, { recursive: true })
  })

  after(async () => {
    await context?.close().catch(() => {})
    for (const d of daemons) await stop(d, 'SIGKILL')
    fs.rmSync(root, { recursive: true, force: true })
  })

  test('create a space; a second space of the same name shows NAME_TAKEN', async () => {
    const a = daemons[0] as Daemon
    const created = await submit(pageA, 'create-form', { name: 'team' }, 'create-result')
    assert.equal(created.state, 'ok', created.text)
    assert.match(created.text, /created team/)
    const spaces = ok(a.dir, 'space', 'list') as Array<{ name: string }>
    assert.deepEqual(spaces.filter(s => s.name === 'team').length, 1, 'the daemon holds the space')
    // The page refreshed what it shows: the spaces table and every space chooser.
    await pageA.locator('[data-testid="folders"] td', { hasText: /^team$/ }).waitFor()
    await pageA.locator('[data-testid="members-space"] option', { hasText: 'team' }).waitFor({ state: 'attached' })

    const taken = await submit(pageA, 'create-form', { name: 'team' }, 'create-result')
    assert.equal(taken.state, 'bad')
    assert.equal(taken.code, 'NAME_TAKEN')
    assert.match(taken.text, /already holds a space named "team"/)
    assert.equal((ok(a.dir, 'space', 'list') as Array<{ name: string }>).filter(s => s.name === 'team').length, 1)
    await pageA.screenshot({ path: path.join(ARTIFACTS, 'manage-name-taken.png'), fullPage: true })
  })

  test('invite shows a token to copy; the second daemon joins with it from its own page', async () => {
    const [a, b] = daemons as [Daemon, Daemon]
    const invited = await submit(pageA, 'invite-form', { space: 'team', role: 'writer', uses: '1' }, 'invite-result')
    assert.equal(invited.state, 'ok', invited.text)
    inviteToken = await pageA.locator('[data-testid="invite-token"]').inputValue()
    assert.match(inviteToken, /^sp1/, 'the token is shown')
    assert.equal(await pageA.locator('[data-testid="invite-token"]').isVisible(), true)
    await context?.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(pageA.url()).origin })
    await pageA.locator('#invite-copy').click()
    await pageA.locator('#invite-copied[data-state="ok"]').waitFor()
    assert.equal(await pageA.evaluate(async () => await (globalThis as any).navigator.clipboard.readText()), inviteToken,
      'the copy button put the token on the clipboard')

    const joined = await submit(pageB, 'join-form', { token: inviteToken }, 'join-result')
    assert.equal(joined.state, 'ok', joined.text)
    assert.match(joined.text, /joined team as writer/)
    const onB = (ok(b.dir, 'space', 'list') as Array<{ name: string, role: string }>).find(s => s.name === 'team')
    assert.equal(onB?.role, 'writer', 'the second daemon holds the space as a writer')
    await pageB.locator('[data-testid="folders"] td', { hasText: /^team$/ }).waitFor()

    // The token had one use: a second join with it is refused, and the page says why, with the code.
    const again = await submit(pageB, 'join-form', { token: inviteToken }, 'join-result')
    assert.equal(again.state, 'bad')
    assert.notEqual(again.code, '', `the error shows its code: ${again.text}`)
    assert.ok(ok(a.dir, 'acl', 'list', 'team').some((m: { peerId: string }) => m.peerId === b.peerId))
  })

  test('grant and revoke a member\'s role', async () => {
    const [a, b] = daemons as [Daemon, Daemon]
    await pageA.locator('[data-testid="members-space"]').selectOption({ label: 'team' })
    await eventually('the members table lists the second daemon as a writer', async () => await memberRole(pageA, b.peerId),
      role => role === 'writer', WAIT_MS)
    const row = pageA.locator(`[data-testid="members-table"] tr[data-peer="${b.peerId}"]`)
    await row.locator('select[data-role]').selectOption('admin')
    const granted = await act(pageA, 'members-result', async () => await row.locator('button[data-act="grant"]').click())
    assert.equal(granted.state, 'ok', granted.text)
    assert.equal(await memberRole(pageA, b.peerId), 'admin', 'the table shows the new role')
    const aclRole = (): unknown => ok(a.dir, 'acl', 'list', 'team').find((m: { peerId: string }) => m.peerId === b.peerId)?.role
    assert.equal(aclRole(), 'admin', 'the daemon granted it')

    const revoked = await act(pageA, 'members-result', async () =>
      await pageA.locator(`[data-testid="members-table"] tr[data-peer="${b.peerId}"] button[data-act="revoke"]`).click())
    assert.equal(revoked.state, 'ok', revoked.text)
    assert.equal(await memberRole(pageA, b.peerId), 'revoked', 'the table shows the revocation')
    assert.equal(aclRole(), null, 'the daemon revoked it')

    // Granting to something that is no peer id is refused by the node, and shown.
    const bad = await submit(pageA, 'grant-form', { peer: 'not-a-peer', role: 'reader' }, 'members-result')
    assert.equal(bad.state, 'bad')
    assert.equal(bad.code, 'BAD_PEER', bad.text)
    await pageA.screenshot({ path: path.join(ARTIFACTS, 'manage-members.png'), fullPage: true })
  })

  test('share a folder, see its conflicts, stop sharing it; a missing directory shows its error', async () => {
    const a = daemons[0] as Daemon
    const dir = fs.mkdtempSync(path.join(root, 'shared-'))
    fs.writeFileSync(path.join(dir, 'hello.txt'), 'hello\n')
    const docs = await submit(pageA, 'create-form', { name: 'docs' }, 'create-result')
    assert.equal(docs.state, 'ok', docs.text)

    const missing = await submit(pageA, 'folder-form', { space: 'docs', path: path.join(root, 'nowhere') }, 'folder-result')
    assert.equal(missing.state, 'bad')
    assert.equal(missing.code, 'BAD_FOLDER', missing.text)

    const shared = await submit(pageA, 'folder-form', { space: 'docs', path: dir, mode: 'send-receive' }, 'folder-result')
    assert.equal(shared.state, 'ok', shared.text)
    assert.deepEqual((ok(a.dir, 'folder', 'list') as Array<{ path: string }>).map(f => f.path), [dir])
    const row = pageA.locator('[data-testid="folder-admin-table"] tr[data-space]', { hasText: dir })
    await row.waitFor()

    const conflicts = await act(pageA, 'folder-admin-result', async () => await row.locator('button[data-act="conflicts"]').click())
    assert.equal(conflicts.state, 'ok', conflicts.text)
    assert.match(await pageA.locator('[data-testid="conflicts"]').innerText(), /no conflicts in this folder/)
    assert.match(await pageA.locator('[data-testid="conflicts"]').innerText(), /Keep this one: that version becomes the file/)
    await pageA.screenshot({ path: path.join(ARTIFACTS, 'manage-folder.png'), fullPage: true })

    const removed = await act(pageA, 'folder-admin-result', async () => await row.locator('button[data-act="remove"]').click())
    assert.equal(removed.state, 'ok', removed.text)
    assert.deepEqual(ok(a.dir, 'folder', 'list'), [], 'the daemon shares no folder')
    await pageA.locator('[data-testid="folder-admin"]').getByText('this node shares no folder').waitFor()
    assert.equal(fs.readFileSync(path.join(dir, 'hello.txt'), 'utf8'), 'hello\n', 'its files stay')
    assert.equal(await pageA.locator('[data-testid="conflicts"]').isVisible(), false, 'the conflicts list closed with it')
  })

  // The setup is the CLI's (the page's own forms are tested above); the page must show the conflict the folder holds.
  test('a real conflict is shown: the path, and the copy that keeps the other version; keeping that copy resolves it', async () => {
    const a = daemons[0] as Daemon
    let b = daemons[1] as Daemon
    const dirA = path.join(root, 'files-a')
    const dirB = path.join(root, 'files-b')
    for (const dir of [dirA, dirB]) fs.mkdirSync(dir)
    const space = ok(a.dir, 'space', 'create', 'files').id as string
    ok(b.dir, 'space', 'join', ok(a.dir, 'space', 'invite', space, '--role', 'writer').token as string)
    ok(a.dir, 'folder', 'add', space, dirA)
    ok(b.dir, 'folder', 'add', space, dirB)
    const shared = (dir: string): string => path.join(dir, 'shared.txt')
    fs.writeFileSync(shared(dirA), 'v1')
    await eventually('the second daemon has v1', () => fs.existsSync(shared(dirB)) && fs.readFileSync(shared(dirB), 'utf8'),
      v => v === 'v1', WAIT_MS)

    // Both edit while the second is stopped; the first records its edit before the second is back.
    await stop(b)
    fs.writeFileSync(shared(dirB), 'edited on b while it was offline')
    fs.utimesSync(shared(dirB), new Date(Date.now() - 120_000), new Date(Date.now() - 120_000))
    const filesOut = (): number => ok(a.dir, 'folder', 'status', space).status.totals.filesOut as number
    const before = filesOut()
    fs.writeFileSync(shared(dirA), 'edited on a, later')
    await eventually('the first daemon recorded its edit', filesOut, n => n > before, WAIT_MS)
    b = await startDaemon(b.dir, ['--peer', a.addrs[0] as string])
    daemons[1] = b
    await eventually('the first daemon lists the conflict', () => ok(a.dir, 'conflicts', space) as any[],
      l => l.length === 1 && l[0].copies.length === 1, WAIT_MS)

    const row = pageA.locator('[data-testid="folder-admin-table"] tr[data-space]', { hasText: dirA })
    const shown = await act(pageA, 'folder-admin-result', async () => await row.locator('button[data-act="conflicts"]').click())
    assert.equal(shown.state, 'ok', shown.text)
    assert.match(shown.text, /1 paths in conflict/)
    const table = await pageA.locator('[data-testid="conflicts-table"]').innerText()
    assert.match(table, /shared\.txt/)
    assert.match(table, /shared\.sync-conflict-\d{8}-\d{6}-[0-9A-F]{7}\.txt/, 'the copy on disk is named')
    await pageA.screenshot({ path: path.join(ARTIFACTS, 'manage-conflict.png'), fullPage: true })

    // Keep the copy (the second daemon's offline edit) with its button. First make sure the first daemon holds the
    // second's record of its own copy (recorded by the pass after it was written): one pass now on the second, then a
    // marker written after it, seen on the first.
    const api = JSON.parse(fs.readFileSync(path.join(b.dir, 'api.json'), 'utf8')) as { url: string, token: string }
    const synced = await fetch(`${api.url}/v1/spaces/${space}/folder/sync`, { method: 'POST', headers: { authorization: `Bearer ${api.token}` } })
    assert.equal(synced.status, 200)
    ok(b.dir, 'kv', 'put', space, 'copies-recorded', 'yes')
    await eventually('the first daemon holds the second\'s records', () => ok(a.dir, 'kv', 'get', space, 'copies-recorded'),
      v => v?.value === 'yes', WAIT_MS)
    const copy = (ok(a.dir, 'conflicts', space) as any[])[0].copies[0] as string
    const keep = pageA.locator(`[data-testid="conflicts-table"] button[data-keep="${copy}"]`)
    const kept = await act(pageA, 'folder-admin-result', async () => await keep.click())
    assert.equal(kept.state, 'ok', kept.text)
    assert.match(kept.text, /shared\.txt keeps the chosen version on every node; removed shared\.sync-conflict-/)
    assert.equal(fs.readFileSync(shared(dirA), 'utf8'), 'edited on b while it was offline', 'kept under the name')
    assert.ok(!fs.existsSync(path.join(dirA, copy)), 'the copy is gone')
    await pageA.locator('[data-testid="conflicts"]').getByText('no conflicts in this folder').waitFor({ timeout: WAIT_MS })
    await eventually('the second daemon has the kept version', () => fs.readFileSync(shared(dirB), 'utf8'),
      v => v === 'edited on b while it was offline', WAIT_MS)
    await eventually('the second daemon lists no conflict', () => ok(b.dir, 'conflicts', space) as any[], l => l.length === 0, WAIT_MS)
    await pageA.screenshot({ path: path.join(ARTIFACTS, 'manage-conflict-resolved.png'), fullPage: true })
    assert.deepEqual(pageErrors, [], 'no script error in the pages')
  })
})
