import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'

/**
 * A benchmark's helper process and request/response calls to it over IPC:
 * it answers `{id, req}` with `{id, result}` or `{id, error}` (storm-node.ts,
 * status.ts's workers). `close()` asks it to close, and kills it if it does
 * not within `closeMs`.
 */
export class IpcChild<Req extends { op: string }> {
  readonly #child: ChildProcess
  readonly #what: string
  readonly #closeMs: number
  readonly #waiting = new Map<number, { resolve: (v: any) => void, reject: (e: Error) => void }>()
  #next = 0

  /** `nodeArgs`: Node's own arguments for the child (daemon-like.ts), after this process's. */
  constructor (script: string, args: readonly string[], what: string, closeMs: number, nodeArgs: readonly string[] = []) {
    this.#what = what
    this.#closeMs = closeMs
    this.#child = fork(script, [...args], {
      execPath: process.execPath, execArgv: [...process.execArgv, ...nodeArgs], stdio: ['ignore', 'ignore', 'inherit', 'ipc']
    })
    this.#child.on('message', (msg: { id: number, result?: unknown, error?: string }) => {
      const w = this.#waiting.get(msg.id)
      this.#waiting.delete(msg.id)
      if (msg.error !== undefined) w?.reject(new Error(msg.error))
      else w?.resolve(msg.result)
    })
    this.#child.on('exit', code => {
      for (const w of this.#waiting.values()) w.reject(new Error(`${what} exited (${code})`))
      this.#waiting.clear()
    })
  }

  get pid (): number { return this.#child.pid as number }

  get #gone (): boolean { return this.#child.exitCode !== null || this.#child.signalCode !== null }

  async call<T = unknown> (req: Req): Promise<T> {
    if (this.#gone) throw new Error(`${this.#what} is not running`)
    const id = this.#next++
    return await new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject })
      this.#child.send({ id, req })
    })
  }

  async kill (): Promise<void> {
    if (this.#gone) return
    const exited = new Promise(resolve => this.#child.once('exit', resolve))
    this.#child.kill('SIGKILL')
    await exited
  }

  async close (): Promise<void> {
    if (this.#gone) return
    const exited = new Promise(resolve => this.#child.once('exit', resolve))
    const killer = setTimeout(() => this.#child.kill('SIGKILL'), this.#closeMs)
    this.call({ op: 'close' } as Req).catch(() => {})
    await exited
    clearTimeout(killer)
  }
}
