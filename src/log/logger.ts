import { pino } from 'pino'

/**
 * The daemon's logger: pino, writing one line per event to stderr (stdout
 * stays the machine-readable start lines). JSON lines for machines
 * (`{"level":"info","time":"…","msg":"peer connected","peer":"12D3KooW…"}`),
 * or the same fields as one human line per event:
 * `samepage: 2026-12-03T06:30:00.000Z INFO peer connected peer=12D3KooW…`.
 */

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const
export type LogLevel = typeof LOG_LEVELS[number]
export const LOG_FORMATS = ['json', 'human'] as const
export type LogFormat = typeof LOG_FORMATS[number]

/**
 * What a node logs through: pino's own methods (a pino logger is one), so a
 * program embedding a node can hand it its own logger.
 */
export interface Logger {
  debug: (fields: object, msg: string) => void
  info: (fields: object, msg: string) => void
  warn: (fields: object, msg: string) => void
  error: (fields: object, msg: string) => void
}

/** Where lines go: anything with write() (stderr by default; a test collects them). */
interface LogSink { write: (line: string) => void }

export function isLogLevel (text: unknown): text is LogLevel {
  return (LOG_LEVELS as readonly unknown[]).includes(text)
}

export function isLogFormat (text: unknown): text is LogFormat {
  return (LOG_FORMATS as readonly unknown[]).includes(text)
}

export function createLogger (opts: { level: LogLevel, format: LogFormat, sink?: LogSink }): Logger {
  const sink = opts.sink ?? process.stderr
  const out: LogSink = opts.format === 'json' ? sink : { write: line => { sink.write(humanLine(line)) } }
  return pino({
    level: opts.level,
    // No pid or host name in every line: one daemon per data directory, and its host is the operator's.
    base: null,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: label => ({ level: label }) }
  }, out)
}

/** A pino JSON line as one human line, in the form of the daemon's other stderr lines ("samepage: TIME …"). */
function humanLine (jsonLine: string): string {
  let o: Record<string, unknown>
  try {
    o = JSON.parse(jsonLine) as Record<string, unknown>
  } catch {
    return jsonLine
  }
  const { level, time, msg, ...fields } = o
  const rest = Object.entries(fields).map(([k, v]) => ` ${k}=${typeof v === 'string' && PLAIN.test(v) ? v : quoted(v)}`)
  return `samepage: ${String(time)} ${String(level).toUpperCase()} ${String(msg)}${rest.join('')}\n`
}

/** A value shown bare: printable ASCII without spaces or quotes (peer ids, space ids, simple words). */
const PLAIN = /^[!#-~]+$/

/**
 * Anything else quoted as JSON, with the controls JSON leaves alone escaped too: a file name or
 * a reason may come from a peer, and must not move the terminal's cursor or forge a line.
 */
function quoted (v: unknown): string {
  return (JSON.stringify(v) ?? 'null').replace(/[\u007f-\u009f\u2028\u2029]/g,
    c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
