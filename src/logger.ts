/**
 * The transport's logging: a rate limiter so that a flood of the same event
 * (dropped messages, failing dials) becomes one line per interval with a
 * count, and the field names every line uses. The `Logger` interface itself
 * is raftpb's, shared by every layer.
 *
 * @module
 */

import type { LogFields, Logger, LogLevel } from "../raftpb/logger.ts";

export {
  consoleLogger,
  type LogFields,
  type Logger,
  type LogLevel,
  silentLogger,
} from "../raftpb/logger.ts";

interface Window {
  until: number;
  suppressed: number;
  level: LogLevel;
  msg: string;
  fields?: LogFields;
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * Emits the first occurrence of an event at once, then at most one summary
 * line per `intervalMs` per key, carrying the count of the events it stood
 * for (`count` in the fields). `close()` flushes pending summaries and
 * clears the timers.
 */
export class RateLimitedLog {
  #log: Logger;
  #interval: number;
  #windows = new Map<string, Window>();
  #closed = false;

  /** Creates a limiter over `log`. */
  constructor(log: Logger, intervalMs = 5000) {
    this.#log = log;
    this.#interval = intervalMs;
  }

  /** Logs `msg` under `key` (for example "drop:<peer>"), rate-limited. */
  event(key: string, level: LogLevel, msg: string, fields?: LogFields): void {
    if (this.#closed) return;
    const now = Date.now();
    const w = this.#windows.get(key);
    if (w === undefined || now >= w.until) {
      if (w !== undefined) this.#flush(key, w);
      else if (this.#windows.size >= 1024) this.#sweep(now);
      this.#windows.set(key, { until: now + this.#interval, suppressed: 0, level, msg, fields });
      this.#log[level](msg, fields);
      return;
    }
    w.suppressed++;
    w.fields = fields;
    // At the end of the window, one summary line; the flood keeps being
    // summarised once per interval for as long as it lasts.
    w.timer ??= setTimeout(() => {
      w.timer = undefined;
      this.#flush(key, w);
      w.until = Date.now() + this.#interval;
    }, w.until - now);
  }

  /** Keys come from peers (ids, paths): forget quiet ones so the map stays bounded. */
  #sweep(now: number): void {
    for (const [k, w] of this.#windows) {
      if (this.#windows.size < 1024) return;
      if (now >= w.until || this.#windows.size >= 4096) {
        this.#flush(k, w);
        this.#windows.delete(k);
      }
    }
  }

  #flush(_key: string, w: Window): void {
    if (w.timer !== undefined) clearTimeout(w.timer);
    w.timer = undefined;
    if (w.suppressed > 0) {
      this.#log[w.level](`${w.msg} (${w.suppressed} more in the last ${this.#interval / 1000} s)`, {
        ...w.fields,
        count: w.suppressed,
      });
      w.suppressed = 0;
    }
  }

  /** Flushes pending summaries and releases the timers. */
  close(): void {
    this.#closed = true;
    for (const [k, w] of this.#windows) this.#flush(k, w);
    this.#windows.clear();
  }
}

/**
 * The field names every line uses: etcd's zap vocabulary. Ids are lowercase
 * hex strings, as etcd prints them; no field holds a bigint.
 */
export const F = {
  local: "local-member-id",
  remote: "remote-peer-id",
  stream: "stream-type",
  error: "error",
} as const;

/** Adds `base` (this member's id) ahead of each line's own fields. */
export function withFields(log: Logger, base: LogFields): Logger {
  const at = (level: LogLevel) => (msg: string, fields?: LogFields) =>
    log[level](msg, fields === undefined ? { ...base } : { ...base, ...fields });
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** Wraps a logger so that a logger that throws can never break the transport. */
export function guardLogger(log: Logger): Logger {
  const guard = (level: LogLevel) => (msg: string, fields?: LogFields) => {
    try {
      log[level](msg, fields);
    } catch {
      // A broken logger loses the line, nothing else.
    }
  };
  return { debug: guard("debug"), info: guard("info"), warn: guard("warn"), error: guard("error") };
}
