/**
 * log/: the daemon's logger (pino; JSON lines or human lines on stderr) and
 * the limiter that keeps what peers can trigger from flooding it.
 *
 * Imports no other folder of samepage: every layer above may log.
 */
export { createLogger, isLogFormat, isLogLevel, LOG_FORMATS, LOG_LEVELS } from './logger.ts'
export type { Logger, LogFormat, LogLevel } from './logger.ts'
export { LogLimiter } from './limiter.ts'
