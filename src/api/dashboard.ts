import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'

/**
 * The dashboard: one self-contained HTML page (dashboard/index.html, its
 * scripts dashboard/format.js and app.js and cytoscape, inlined), so that the token in the
 * page's URL is the only thing a browser needs: no second request for
 * assets that would have to carry it. The page reads the map from /v1/net
 * and follows the WebSocket's `network` events.
 */
let page: string | undefined

export function dashboardPage (): string {
  page ??= build()
  return page
}

function build (): string {
  const here = assetsDir()
  const html = fs.readFileSync(path.join(here, 'index.html'), 'utf8')
  const app = fs.readFileSync(path.join(here, 'app.js'), 'utf8')
  const format = fs.readFileSync(path.join(here, 'format.js'), 'utf8') // the hostile-value formatting app.js uses
  const cytoscape = fs.readFileSync(createRequire(import.meta.url).resolve('cytoscape/dist/cytoscape.min.js'), 'utf8')
  const inline = (js: string): string => `<script>${js.replaceAll('</script', '<\\/script')}</script>`
  return html.replace('<!-- cytoscape -->', () => inline(cytoscape)).replace('<!-- app -->', () => inline(format) + inline(app))
}

/** Beside this file in src/; in a build (dist/), the assets stay in src/api/dashboard, which the package ships. */
function assetsDir (): string {
  const beside = path.join(import.meta.dirname, 'dashboard')
  return fs.existsSync(path.join(beside, 'index.html')) ? beside : path.join(import.meta.dirname, '..', '..', 'src', 'api', 'dashboard')
}
