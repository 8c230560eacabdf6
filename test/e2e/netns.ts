import { execFileSync } from 'node:child_process'

/**
 * A small internet of the test's own, in network namespaces: a bridge (the
 * "internet", 10.79.0.0/24) joining hosts with a public address, and home
 * routers that hide a LAN behind iptables MASQUERADE (each LAN its own
 * 192.168.N.0/24, its router the only way out). No packet leaves these
 * namespaces; close() deletes them (and with them every veth, route and
 * iptables rule made here), also after a failure.
 */
export const INTERNET = '10.79.0'

/** Runs `ip ARGS` (iproute2), quietly; throws with its stderr on failure. */
export const ip = (...args: string[]): void => { execFileSync('ip', args, { stdio: 'pipe' }) }
const run = (ns: string, ...cmd: string[]): void => { execFileSync('ip', ['netns', 'exec', ns, ...cmd], { stdio: 'pipe' }) }

const PACKAGE_OF = { ip: 'iproute2', iptables: 'iptables' } as const

/**
 * Whether this process may build namespaces (root and iproute2) and, with `iptables` among `needs`, NATs;
 * else why not (a test's `skip`).
 */
export function netnsSkipReason (needs: ReadonlyArray<keyof typeof PACKAGE_OF> = ['ip', 'iptables']): string | false {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)'
  for (const [cmd, pkg] of needs.map(n => [n, PACKAGE_OF[n]] as const)) {
    try {
      execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'pipe' })
    } catch {
      return `needs ${cmd} (apt-get install ${pkg})`
    }
  }
  return false
}

export interface PublicHost { readonly ns: string, readonly ip: string }
export interface NatHost extends PublicHost { readonly natIp: string }

export class NatLab {
  readonly #prefix = `sp${process.pid}`
  readonly #namespaces: string[] = []
  readonly #nats: string[] = []
  readonly #internet: string
  #hosts = 0

  /** Call close() even when a method throws: it removes whatever was made. */
  constructor () {
    this.#internet = this.#add('net')
    try {
      ip('-n', this.#internet, 'link', 'add', 'name', 'sw', 'type', 'bridge')
      ip('-n', this.#internet, 'link', 'set', 'sw', 'up')
    } catch (err) {
      this.close()
      throw err
    }
  }

  /** The command prefix that runs a program inside a namespace. */
  static exec (ns: string): string[] { return ['ip', 'netns', 'exec', ns] }

  /** A host on the internet itself: its namespace and its public address. */
  publicHost (name: string): PublicHost {
    const ns = this.#add(name)
    const addr = this.#plug(ns)
    return { ns, ip: addr }
  }

  /**
   * A host behind its own home router (MASQUERADE): its namespace, its LAN
   * address, and the router's public address (what others see it come from).
   */
  natHost (name: string, lan: number): NatHost {
    const router = this.#add(`${name}r`)
    const host = this.#add(name)
    const natIp = this.#plug(router)
    ip('-n', router, 'link', 'add', 'lan', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host)
    ip('-n', router, 'addr', 'add', `192.168.${lan}.1/24`, 'dev', 'lan')
    ip('-n', router, 'link', 'set', 'lan', 'up')
    ip('-n', host, 'addr', 'add', `192.168.${lan}.2/24`, 'dev', 'eth0')
    ip('-n', host, 'link', 'set', 'eth0', 'up')
    ip('-n', host, 'route', 'add', 'default', 'via', `192.168.${lan}.1`)
    run(router, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1')
    run(router, 'iptables', '-t', 'nat', '-A', 'POSTROUTING', '-s', `192.168.${lan}.0/24`, '-o', 'wan', '-j', 'MASQUERADE')
    this.#nats.push(router)
    return { ns: host, ip: `192.168.${lan}.2`, natIp }
  }

  close (): void {
    for (const ns of this.#nats) {
      try { run(ns, 'iptables', '-t', 'nat', '-F') } catch { /* the namespace is gone already */ }
    }
    for (const ns of this.#namespaces.reverse()) {
      try { ip('netns', 'del', ns) } catch { /* already gone */ }
    }
  }

  #add (name: string): string {
    const ns = `${this.#prefix}${name}`
    ip('netns', 'add', ns)
    this.#namespaces.push(ns)
    ip('-n', ns, 'link', 'set', 'lo', 'up')
    return ns
  }

  /** Plugs a namespace into the internet's bridge as "wan"; returns its public address. */
  #plug (ns: string): string {
    const port = `p${++this.#hosts}`
    const addr = `${INTERNET}.${this.#hosts}`
    ip('-n', ns, 'link', 'add', 'wan', 'type', 'veth', 'peer', 'name', port, 'netns', this.#internet)
    ip('-n', this.#internet, 'link', 'set', port, 'master', 'sw')
    ip('-n', this.#internet, 'link', 'set', port, 'up')
    ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'wan')
    ip('-n', ns, 'link', 'set', 'wan', 'up')
    return addr
  }
}
