import type { Command } from 'commander'
import { INVITE_USES_MAX } from '../codec/index.ts'
import { quotedIfUnsafe, refusedNext } from '../ids/index.ts'
import { CliError } from './client.ts'
import { parseDuration } from './duration.ts'
import { about, api, enc, globals, out, shown } from './program.ts'
import { readValueFile } from './value-file.ts'

/**
 * The commands about spaces and what they hold: spaces themselves, who may
 * do what in them (acl), and their data types (kv, counter, ledger). SPACE is
 * a space id or a unique space name.
 */
export function addSpaceCommands (program: Command): void {
  addSpaces(program)
  addAcl(program)
  addData(program)
}

function addSpaces (program: Command): void {
  const space = about(program.command('space'), 'create, list, invite to, join and leave spaces',
    'space create team', 'space invite team --role writer')
  about(space.command('create <name>'), 'create a space that this node owns (refused if one here has the name)',
    'space create team')
    .action(async (name: string) => {
      const r = await api().call('POST', '/v1/spaces', { name }) as { id: string, name: string }
      out(r, () => `created space ${r.name} (${r.id})`)
    })
  about(space.command('list'), 'the spaces this node holds, its role and how many members each has', 'space list')
    .action(async () => {
      type SpaceInfo = {
        id: string, name: string, role: string | null, members: number, joinWaiting: boolean,
        joinRefused: { reason: string, detail: string } | null
      }
      const r = await api().call('GET', '/v1/spaces') as SpaceInfo[]
      const refused = (s: SpaceInfo, why: { reason: string, detail: string }): string =>
        `join refused by the inviter (${why.reason}: ${why.detail}; ${refusedNext(shown(s.name))})`
      const noRole = (s: SpaceInfo): string => s.joinWaiting
        ? 'joining (waits for the inviter)'
        : s.joinRefused !== null ? refused(s, s.joinRefused) : 'no role'
      const role = (s: SpaceInfo): string => s.role ?? noRole(s)
      const line = (s: SpaceInfo): string => `${s.id}  ${shown(s.name)}  ${role(s)}  ${s.members} members`
      out(r, () => r.map(line).join('\n') || 'no spaces')
    })
  about(space.command('invite <space>'), 'a token that lets another node join the space (give it privately)',
    'space invite team --role writer', 'space invite team --role reader --uses 5 --expires 24h')
    .requiredOption('--role <role>', 'admin, writer or reader')
    .option('--uses <n>', `how many nodes may join with it (1 to ${INVITE_USES_MAX})`, '1')
    .option('--expires <duration>', 'like 30m, 24h, 7d', '7d')
    .action(async (ref: string, o: { role: string, uses: string, expires: string }) => {
      const uses = Number(o.uses)
      if (!Number.isSafeInteger(uses) || uses < 1 || uses > INVITE_USES_MAX) {
        throw new CliError(`--uses ${JSON.stringify(o.uses)}: give a whole number from 1 to ${INVITE_USES_MAX}`, 2,
          'BAD_INPUT')
      }
      const invite = { role: o.role, uses, expiresInMs: parseDuration(o.expires) }
      const r = await api().call('POST', `/v1/spaces/${enc(ref)}/invites`, invite) as { token: string }
      out(r, () => r.token)
    })
  about(space.command('join <token>'), 'join a space with an invite token; returns once the inviter admitted this node',
    'space join sp1...', 'space join sp1... --wait 5m', 'space join sp1... --as team-b')
    .option('--wait <duration>', 'how long to wait for the inviter to admit this node, like 30s, 5m', '60s')
    .option('--as <name>', 'the space\'s name on this node (needed when a space here has its name already)')
    .action(async (token: string, o: { wait: string, as?: string }) => {
      const waitMs = parseDuration(o.wait)
      type Joined = { id: string, name: string, role: string, deployment: string }
      const body = { token, waitMs, ...(o.as === undefined ? {} : { as: o.as }) }
      const r = await api().call('POST', '/v1/join', body, waitMs + 30_000) as Joined
      const deployment = r.deployment.startsWith('not') ? `; the deployment's status space: ${r.deployment}` : ''
      out(r, () => `joined space ${shown(r.name)} (${r.id}) as ${r.role}${deployment}`)
    })
  about(space.command('leave <space>'), 'stop holding a space here: no more syncing, its data leaves this node\'s ' +
    'store; a folder bound to it stops syncing and its files stay', 'space leave team', 'space leave team --force')
    .option('--force', 'leave even as the last member who can invite or grant in the space, or with writes no ' +
      'connected member holds yet')
    .action(async (ref: string, o: { force?: true }) => {
      type Left = { id: string, name: string, folder: string | null, unansweredInvites: number, toldMembers: number }
      const r = await api().call('POST', `/v1/spaces/${enc(ref)}/leave`, { force: o.force === true }) as Left
      const folder = r.folder === null ? '' : `; ${r.folder} is no longer synced (its files stay)`
      const n = r.unansweredInvites
      const invites = n === 0
        ? ''
        : `; ${n} invite${n === 1 ? '' : 's'} this node issued can no longer admit anyone (only their issuer ` +
          'admits): their joiners need an invite from another member'
      const told = r.toldMembers === 0
        ? '; no connected member was told'
        : `; ${r.toldMembers} connected member${r.toldMembers === 1 ? ' was' : 's were'} told`
      out(r, () => `left space ${shown(r.name)} (${r.id})${folder}${invites}${told}`)
    })
}

function addAcl (program: Command): void {
  const acl = about(program.command('acl'), 'who may do what in a space', 'acl list team')
  about(acl.command('list <space>'), 'every member of the space and its role (revoked ones too)', 'acl list team')
    .action(async (ref: string) => {
      const r = await api().call('GET', `/v1/spaces/${enc(ref)}/acl`) as { peerId: string, role: string | null }[]
      out(r, () => r.map(m => `${m.peerId}  ${m.role ?? 'revoked'}`).join('\n'))
    })
  about(acl.command('grant <space> <peer> <role>'), 'give a peer a role (admin, writer or reader) in the space',
    'acl grant team 12D3KooW... reader')
    .action(async (ref: string, peer: string, role: string) => {
      await api().call('POST', `/v1/spaces/${enc(ref)}/acl`, { peer, role })
      out({ ok: true }, () => `granted ${role} to ${peer}`)
    })
  about(acl.command('revoke <space> <peer>'), 'take a member\'s rights away (its writes from then on are refused)',
    'acl revoke team 12D3KooW...')
    .action(async (ref: string, peer: string) => {
      await api().call('DELETE', `/v1/spaces/${enc(ref)}/acl/${enc(peer)}`)
      out({ ok: true }, () => `revoked ${peer}`)
    })
}

function addData (program: Command): void {
  const kv = about(program.command('kv'), 'a key-value map per space (last writer wins)',
    'kv put team color blue', 'kv get team color')
  about(kv.command('put <space> <key> [value]'), 'set a key to a string value, given or read from a file',
    'kv put team color blue', 'kv put team notes --file notes.txt', 'kv put team motd --file - < motd.txt')
    .option('--file <file>', 'read the value from FILE (- for stdin) instead, as UTF-8 text, exactly')
    .action(async (ref: string, key: string, given: string | undefined, o: { file?: string }) => {
      const value = await valueOrFile('kv put SPACE KEY', 'VALUE', given, o.file)
      await api().call('PUT', `/v1/spaces/${enc(ref)}/kv/${enc(key)}`, { value })
      out({ ok: true }, () => 'ok')
    })
  about(kv.command('get <space> <key>'), 'a key\'s value (empty, or null under --json, when it has none)',
    'kv get team color')
    .action(async (ref: string, key: string) => {
      const r = await api().call('GET', `/v1/spaces/${enc(ref)}/kv/${enc(key)}`) as { key: string, value: unknown }
      out(r, () => r.value === null ? '' : typeof r.value === 'string' ? r.value : JSON.stringify(r.value))
    })
  about(kv.command('del <space> <key>'), 'delete a key', 'kv del team color')
    .action(async (ref: string, key: string) => {
      await api().call('DELETE', `/v1/spaces/${enc(ref)}/kv/${enc(key)}`)
      out({ ok: true }, () => 'ok')
    })
  about(kv.command('list <space>'), 'every key and its value, one per line (tab between)', 'kv list team')
    .action(async (ref: string) => {
      // Other members' keys and values: a newline or a terminal escape in one is shown escaped, never run.
      const line = (e: { key: string, value: unknown }): string =>
        `${quotedIfUnsafe(e.key)}\t${typeof e.value === 'string' ? quotedIfUnsafe(e.value) : JSON.stringify(e.value)}`
      await printPages(`/v1/spaces/${enc(ref)}/kv`, line)
    })

  const counter = about(program.command('counter'), 'counters that anyone may add to', 'counter add team visits 1')
  about(counter.command('add <space> <name> <n>'), 'add a whole number (negative to subtract) to a counter',
    'counter add team visits 1', 'counter add team stock -3')
    .action(async (ref: string, name: string, n: string) => {
      const delta = Number(n)
      if (!/^-?\d+$/.test(n) || !Number.isSafeInteger(delta)) {
        throw new CliError(`${JSON.stringify(n)} is not a whole number; counter add takes an integer like 5 or -3`, 2)
      }
      if (delta === 0) {
        throw new CliError('counter add 0 changes nothing; add a non-zero integer like 5 or -3', 2, 'BAD_INPUT')
      }
      await api().call('POST', `/v1/spaces/${enc(ref)}/counters/${enc(name)}`, { delta })
      out({ ok: true }, () => 'ok')
    })
  about(counter.command('get <space> <name>'), 'a counter\'s value (0 if nobody added to it)',
    'counter get team visits')
    .action(async (ref: string, name: string) => {
      // Past 2^53 the value comes as a string of digits (JSON numbers lose such integers).
      const r = await api().call('GET', `/v1/spaces/${enc(ref)}/counters/${enc(name)}`) as { value: number | string }
      out(r, () => String(r.value))
    })

  const ledger = about(program.command('ledger'), 'an append-only list of transactions in one order',
    'ledger append team \'{"amount": 5}\'')
  about(ledger.command('append <space> [json]'), 'append a transaction (any JSON value), given or read from a file',
    'ledger append team \'{"amount": 5}\'', 'ledger append team --file tx.json')
    .option('--file <file>', 'read the transaction from FILE (- for stdin) instead')
    .action(async (ref: string, given: string | undefined, o: { file?: string }) => {
      const json = await valueOrFile('ledger append SPACE', 'JSON', given, o.file)
      let tx: unknown
      try {
        tx = JSON.parse(json)
      } catch {
        const start = JSON.stringify(json.slice(0, 60))
        throw new CliError(`the transaction is not valid JSON: ${start}; quote it, like '{"amount": 5}'`, 2)
      }
      // The daemon's rule, before anything recursive.
      const { assertValueDepth } = await import('../codec/index.ts')
      try {
        assertValueDepth(tx, 'the transaction')
      } catch (err) {
        throw new CliError((err as Error).message, 2, 'BAD_INPUT', { cause: err })
      }
      await api().call('POST', `/v1/spaces/${enc(ref)}/ledger`, { tx })
      out({ ok: true }, () => 'ok')
    })
  about(ledger.command('list <space>'), 'every transaction, in the order every node agrees on, one JSON per line',
    'ledger list team')
    .action(async (ref: string) => {
      await printPages(`/v1/spaces/${enc(ref)}/ledger`, (t: unknown) => JSON.stringify(t))
    })
}

/**
 * Every row of a list call, fetched a page at a time (`?limit=`, then `&after=` the page's `next`) and printed as
 * it comes: a list may be longer than one string holds (review A, defect 4). Text: one line a row (`line`);
 * --json: one JSON array on one line, as the whole list's JSON.stringify would print it.
 */
async function printPages<T> (pathname: string, line: (row: T) => string): Promise<void> {
  const json = globals().json
  let after: string | null = null
  let first = true
  if (json) await printed('[')
  do {
    const query: string = `?limit=${PAGE_ROWS}${after === null ? '' : `&after=${after}`}`
    const page = await api().call('GET', pathname + query) as { rows: T[], next: string | null }
    const rows = json ? page.rows.map(r => JSON.stringify(r)) : page.rows.map(line)
    if (rows.length > 0) await printed((first ? '' : json ? ',' : '\n') + rows.join(json ? ',' : '\n'))
    first &&= rows.length === 0
    after = page.next
  } while (after !== null)
  await printed(json ? ']\n' : first ? '' : '\n')
}

/** Rows the CLI asks a page: the most the API gives (it may send fewer, by their bytes). */
const PAGE_ROWS = 1000

/** Writes to stdout, waiting while it is full (a pipe to a slow reader). */
async function printed (text: string): Promise<void> {
  if (text === '' || process.stdout.write(text)) return
  await new Promise(resolve => process.stdout.once('drain', resolve))
}

/** The value given as an argument or read from --file: exactly one of them. */
async function valueOrFile (
  usage: string, arg: string, given: string | undefined, file: string | undefined
): Promise<string> {
  if (given !== undefined && file !== undefined) {
    throw new CliError(`give ${arg} or --file, not both: samepage ${usage} ${arg} | --file FILE`, 2, 'USAGE')
  }
  if (file !== undefined) return await readValueFile(file)
  if (given === undefined) {
    throw new CliError(`${arg} is missing: samepage ${usage} ${arg} | --file FILE (- for stdin)`, 2, 'USAGE')
  }
  return given
}
