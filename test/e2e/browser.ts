import fs from 'node:fs'
import path from 'node:path'
import { chromium } from 'playwright-core'
import type { BrowserContext, Page } from 'playwright-core'

const CHROMIUM = '/usr/bin/chromium'

/**
 * Debian's Chromium, headless, as test/e2e/dashboard.test.ts launches it, with a fresh profile under `root`
 * (removed with it). `errors` collects the page's uncaught errors.
 */
export async function openBrowser (root: string, waitMs = 180_000): Promise<{ context: BrowserContext, page: Page, errors: string[] }> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium is missing at ${CHROMIUM}; install it with: apt-get install -y chromium (CI's .ci/run does)`)
  }
  const context = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(root, 'chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--disable-quic'],
    viewport: { width: 1440, height: 1000 },
    timeout: waitMs
  })
  context.setDefaultTimeout(waitMs)
  const page = context.pages()[0] ?? await context.newPage()
  const errors: string[] = []
  page.on('pageerror', err => errors.push(err.message))
  return { context, page, errors }
}
