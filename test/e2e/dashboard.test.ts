import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { chromium } from 'playwright-core'
import type { BrowserContext, Page } from 'playwright-core'
import { eventually, ok, startDaemon, stop, tempRoot } from './harness.ts'
import type { Daemon } from './harness.ts'

/**
 * The web dashboard in a real browser: five daemons on 127.0.0.1 in one
 * deployment (a space created on the first, joined by invite on the others),
 * and Debian's Chromium, headless, driven by playwright-core, reading the
 * page the first daemon serves. The page must show the five nodes and their
 * links, show a SIGKILLed node as down without a reload, and be refused
 * without the token.
 */
const CHROMIUM = '/usr/bin/chromium'
const ARTIFACTS = path.join(import.meta.dirname, '..', '..', 'artifacts', 'dashboard')
/** The colour app.js gives a down node (COLORS.down, #6b7280), as cytoscape reports it. */
const DOWN_RGB = 'rgb(107,114,128)'
const WAIT_MS = 180_000

/** What the page shows, read in the browser through its test hooks (data-testid, window.samepageDashboard). */
interface View {
  readonly live: string
  readonly summary: string
  readonly nodes: number
  readonly edges: number
  readonly rows: readonly { readonly peer: string, readonly health: string }[]
  readonly graph: Readonly<Record<string, { readonly health: string, readonly color: string }>>
}

async function view (page: Page): Promise<View> {
  // Runs in the page: plain JavaScript once Node strips the types, no DOM typings needed here.
  return await page.evaluate(() => {
    const g = globalThis as any
    const cy = g.samepageDashboard?.cy
    const text = (id: string): string => g.document.querySelector(`[data-testid="${id}"]`)?.textContent?.trim() ?? ''
    const rows = [...g.document.querySelectorAll('[data-testid="node-table"] tr[data-peer]')].map((tr: any) => ({ peer: tr.dataset.peer, health: tr.dataset.health }))
    const graph: Record<string, { health: string, color: string }> = {}
    for (const n of cy?.nodes() ?? []) graph[n.id()] = { health: n.data('health'), color: n.style('background-color') }
    return { live: text('live'), summary: text('summary'), nodes: cy?.nodes().length ?? 0, edges: cy?.edges().length ?? 0, rows, graph }
  })
}

describe('the web dashboard in a real browser', { timeout: 600_000 }, () => {
  const root = tempRoot()
  const daemons: Daemon[] = []
  const pageErrors: string[] = []
  let context: BrowserContext | undefined
  let page: Page
  let url = ''

  before(async () => {
    if (!fs.existsSync(CHROMIUM)) {
      throw new Error(`Chromium is missing at ${CHROMIUM}; install it with: apt-get install -y chromium (CI's .ci/run does)`)
    }
    daemons.push(...await Promise.all([1, 2, 3, 4, 5].map(async i => await startDaemon(path.join(root, `node${i}`)))))
    const [first, ...others] = daemons as [Daemon, ...Daemon[]]
    ok(first.dir, 'space', 'create', 'team')
    for (const d of others) ok(d.dir, 'space', 'join', ok(first.dir, 'space', 'invite', 'team', '--role', 'writer').token as string)
    url = ok(first.dir, 'dashboard').url as string

    context = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(root, 'chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
      viewport: { width: 1440, height: 1000 },
      timeout: WAIT_MS
    })
    context.setDefaultTimeout(WAIT_MS)
    page = context.pages()[0] ?? await context.newPage()
    page.on('pageerror', err => pageErrors.push(err.message))
    fs.mkdirSync(ARTIFACTS, { recursive: true })
  })

  after(async () => {
    await context?.close().catch(() => {})
    for (const d of daemons) await stop(d, 'SIGKILL')
    fs.rmSync(root, { recursive: true, force: true })
  })

  test('with the token, the page shows the five nodes and their links, live', async () => {
    const res = await page.goto(url)
    assert.equal(res?.status(), 200)
    const peers = daemons.map(d => d.peerId).sort()
    const v = await eventually('the page shows five nodes up, linked, and the stream live', async () => await view(page), v =>
      v.live === 'live' && v.nodes === 5 && v.edges >= 4 && v.rows.length === 5 &&
      v.rows.every(r => r.health !== 'down' && r.health !== 'unknown'), WAIT_MS)
    assert.deepEqual(v.rows.map(r => r.peer).sort(), peers, 'one table row per node')
    assert.deepEqual(Object.keys(v.graph).sort(), peers, 'one graph node per node')
    assert.match(v.summary, /5\s*nodes/)
    assert.match(v.summary, /5\s*up/)
    // Links on loopback are direct: no relay named, not dashed (solid, or dotted while only one end reports them).
    // The class edges.js gives a relayed link draws dashed.
    const lines = await page.evaluate(() => {
      const edges = (globalThis as any).samepageDashboard.cy.edges()
      const direct = edges.map((e: any) => [e.data('relayedBy'), e.hasClass('relayed'), e.style('line-style') === 'dashed'])
      const edge = edges[0]
      edge.addClass('relayed')
      const relayed = edge.style('line-style')
      edge.removeClass('relayed')
      return { direct, relayed }
    })
    assert.deepEqual(lines.direct, lines.direct.map(() => [null, false, false]), 'direct links not dashed')
    assert.equal(lines.relayed, 'dashed', 'a relayed link drawn dashed')
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-loaded.png'), fullPage: true })
  })

  test('a SIGKILLed node is shown down without a reload', async t => {
    const victim = daemons[4] as Daemon
    await page.evaluate(() => { (globalThis as any).notReloaded = true })
    const killedAt = Date.now()
    await stop(victim, 'SIGKILL')
    const v = await eventually(`the page shows ${victim.peerId} down`, async () => await view(page), v =>
      v.rows.find(r => r.peer === victim.peerId)?.health === 'down' && v.graph[victim.peerId]?.health === 'down' && v.graph[victim.peerId]?.color === DOWN_RGB, WAIT_MS)
    t.diagnostic(`node shown down ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`)
    assert.equal(await page.evaluate(() => (globalThis as any).notReloaded), true, 'the page was not reloaded')
    assert.equal(v.live, 'live')
    assert.ok(v.rows.filter(r => r.peer !== victim.peerId).every(r => r.health !== 'down'), 'only the killed node is down')
    assert.match(v.summary, /1\s*down/)
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-node-down.png'), fullPage: true })
    assert.deepEqual(pageErrors, [], 'no script error in the page')
  })

  test('without the right token the page is refused', async () => {
    const base = new URL(url)
    for (const bad of ['/dashboard', '/dashboard?token=wrong']) {
      const res = await page.goto(new URL(bad, base).href)
      assert.equal(res?.status(), 401, bad)
      assert.match(await page.locator('body').innerText(), /token/i, `${bad}: the refusal says why`)
      assert.equal(await page.locator('[data-testid="graph"]').count(), 0, `${bad}: no graph`)
    }

    // The page itself, opened with a token the daemon refuses (say, a stale bookmark): it says what to do, and shows no data.
    const html = await (await fetch(url)).text()
    const stale = new URL('/dashboard?token=stale', base).href
    await page.route(stale, route => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }))
    await page.goto(stale)
    await page.locator('[data-testid="error"]').getByText('wrong or missing token').waitFor({ timeout: WAIT_MS })
    assert.match(await page.locator('[data-testid="error"]').innerText(), /samepage dashboard/)
    assert.equal(await page.locator('[data-testid="graph"]').isVisible(), false, 'no graph')
    assert.equal(await page.locator('[data-testid="node-table"] tr[data-peer]').count(), 0, 'no nodes')
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-refused.png'), fullPage: true })
  })
})
