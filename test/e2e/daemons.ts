import fs from 'node:fs'
import path from 'node:path'
import { eventually, ok, startDaemon, stop, tempRoot } from './harness.ts'
import type { Daemon } from './harness.ts'

/** Real daemons by name, each with its data directory under one temporary root. */
export class Daemons {
  readonly root = tempRoot()
  readonly running = new Map<string, Daemon>()
  /** Each daemon's stderr since its last start. */
  readonly stderr = new Map<string, string>()

  dir (name: string): string {
    return path.join(this.root, name)
  }

  async run (name: string, extra: string[] = []): Promise<Daemon> {
    const d = await startDaemon(this.dir(name), extra)
    this.stderr.set(name, '')
    d.child.stderr?.on('data', (b: Buffer) => { this.stderr.set(name, (this.stderr.get(name) ?? '') + b.toString()) })
    this.running.set(name, d)
    return d
  }

  async halt (name: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const d = this.running.get(name)
    if (d === undefined) return
    await stop(d, signal)
    this.running.delete(name)
  }

  /** Stops every daemon and removes the root. */
  async close (): Promise<void> {
    for (const name of [...this.running.keys()]) await this.halt(name)
    fs.rmSync(this.root, { recursive: true, force: true })
  }

  /** Space `team` created by `owner`, every one of `writers` joined as a writer and knowing it. */
  async team (owner: string, writers: readonly string[], timeoutMs: number): Promise<string> {
    const space = ok(this.dir(owner), 'space', 'create', 'team').id as string
    for (const name of writers) ok(this.dir(name), 'space', 'join', ok(this.dir(owner), 'space', 'invite', 'team', '--role', 'writer').token)
    await eventually('the owner sees every writer', () => ok(this.dir(owner), 'acl', 'list', 'team') as { role: string | null }[], acl => acl.filter(m => m.role !== null).length === writers.length + 1, timeoutMs)
    for (const name of writers) {
      await eventually(`${name} knows it is a writer`, () => ok(this.dir(name), 'space', 'list') as { role: string }[], s => s[0]?.role === 'writer', timeoutMs)
    }
    return space
  }
}
