import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The dashboard: one HTML page (dashboard/index.html) and its native ES
 * modules (dashboard/*.js, and cytoscape's ES module build), served as they
 * are: no build step. The page needs the token (it shows the whole network);
 * the modules do not: they are the code the npm package ships, hold no data,
 * and every call they make for data carries the token. So the token in the
 * page's URL is still the only thing a browser needs. The page's
 * Content-Security-Policy lets it run only these modules and talk only to
 * this API: a peer's text that slipped past esc() could not run a script.
 */
export const DASHBOARD_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'content-security-policy': [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'"
  ].join('; ')
}

/** The modules under /dashboard/, by name: nothing else is served from there. */
const MODULES = [
  'app.js', 'format.js', 'state.js', 'graph.js', 'edges.js', 'tables.js', 'folders.js',
  'api.js', 'actions.js', 'manage.js', 'folder-admin.js', 'members.js'
]

let page: string | undefined
const modules = new Map<string, string>()

export function dashboardPage (): string {
  page ??= fs.readFileSync(path.join(assetsDir(), 'index.html'), 'utf8')
  return page
}

/** The module served at /dashboard/<name>, or undefined: an allow-list, so no path reaches the disk. */
export function dashboardModule (name: string): string | undefined {
  if (name !== 'cytoscape.js' && !MODULES.includes(name)) return undefined
  let text = modules.get(name)
  if (text === undefined) {
    const file = name === 'cytoscape.js'
      ? fileURLToPath(import.meta.resolve('cytoscape/dist/cytoscape.esm.min.mjs')) // an "import"-only export
      : path.join(assetsDir(), name)
    text = fs.readFileSync(file, 'utf8')
    modules.set(name, text)
  }
  return text
}

/** Beside this file in src/; in a build (dist/), the assets stay in src/api/dashboard, which the package ships. */
function assetsDir (): string {
  const beside = path.join(import.meta.dirname, 'dashboard')
  if (fs.existsSync(path.join(beside, 'index.html'))) return beside
  return path.join(import.meta.dirname, '..', '..', 'src', 'api', 'dashboard')
}
