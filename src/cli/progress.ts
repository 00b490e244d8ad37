import cliProgress from 'cli-progress'

export interface ProgressReporterOptions<P> {
  /** cli-progress format of the terminal bar; `{tokens}` besides its own come from `tokens`. */
  format: string
  /** The bar's tokens for one update (none if omitted). */
  tokens?: (payload: P) => object
  /** One log line, for when stderr is not a terminal (a file, a pipe, a job's log). */
  log: (done: number, total: number, payload: P) => void
  /** Least seconds between log lines (5 by default); the first and the last (done >= total) always log; 0 logs every update. */
  logEverySeconds?: number
}

export interface ProgressReporter<P> {
  update(done: number, total: number, payload: P): void
  /** Ends the current bar: the next update starts a new one (one bar per file, say). */
  restart(): void
  /** Ends the bar, if any; safe to call more than once. */
  stop(): void
}

/**
 * The progress of a long command: a bar on a terminal, otherwise a log line every few seconds, so that
 * a file or a pipe gets a readable record instead of a stream of carriage returns.
 * The bar starts on the first update, when the total is known.
 */
export function progressReporter<P = void>(opts: ProgressReporterOptions<P>): ProgressReporter<P> {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: opts.format, stream: process.stderr, hideCursor: true, etaBuffer: 50 },
      cliProgress.Presets.shades_classic,
    )
    let active = false
    const stop = () => {
      if (active) bar.stop()
      active = false
    }
    return {
      update(done, total, payload) {
        const tokens = opts.tokens?.(payload) ?? {}
        // Started at the first value seen, not 0, so that a resumed run's earlier work does not count in the ETA.
        if (!active) bar.start(total, done, tokens)
        active = true
        bar.update(done, tokens)
      },
      restart: stop,
      stop,
    }
  }
  const everyMs = 1000 * (opts.logEverySeconds ?? 5)
  let last = -Infinity
  return {
    update(done, total, payload) {
      const now = performance.now()
      if (done < total && now - last < everyMs) return
      last = now
      opts.log(done, total, payload)
    },
    restart() {},
    stop() {},
  }
}
