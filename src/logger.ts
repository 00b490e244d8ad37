import pino from 'pino'

/** Structured logs go to stderr so that stdout stays clean for command output (`--json`, tables). */
export function createLogger(level: string, name = 'discograph'): pino.Logger {
  return pino({ name, level }, pino.destination({ fd: 2, sync: false }))
}

export type Logger = pino.Logger
