/**
 * Logging that every layer shares: the injectable `Logger` interface, a
 * console logger and a silent one. The transport adds rate limiting on top
 * (its own `src/logger.ts`).
 *
 * @module
 */

/** Structured fields attached to a log line. */
export type LogFields = Record<string, unknown>;

/**
 * Where the transport, the core and the replica write their logs. Every method is optional to
 * implement beyond these four; pass `silentLogger` to discard everything.
 *
 * @example
 * ```ts
 * import type { Logger } from "@rafthttp/rafthttp";
 * const lines: string[] = [];
 * const logger: Logger = {
 *   debug() {},
 *   info() {},
 *   warn: (msg) => lines.push(msg),
 *   error: (msg) => lines.push(msg),
 * };
 * logger.warn("peer became inactive", { peer: "2" });
 * console.log(lines.length); // 1
 * ```
 */
export interface Logger {
  /** Detail useful when debugging. */
  debug(msg: string, fields?: LogFields): void;
  /** Normal events: a peer became active, a snapshot arrived. */
  info(msg: string, fields?: LogFields): void;
  /** Something failed and will be retried, or data was dropped. */
  warn(msg: string, fields?: LogFields): void;
  /** Something needs an operator: wrong cluster id, member removed. */
  error(msg: string, fields?: LogFields): void;
}

/** Log levels in increasing severity. */
export type LogLevel = "debug" | "info" | "warn" | "error";
const LEVELS: LogLevel[] = ["debug", "info", "warn", "error"];

function fmt(fields?: LogFields): string {
  if (fields === undefined) return "";
  return " " + JSON.stringify(fields, (_k, v) => typeof v === "bigint" ? v.toString(16) : v);
}

/**
 * A logger writing one line per event to the console, from `level` up.
 *
 * @example
 * ```ts
 * import { consoleLogger } from "@rafthttp/rafthttp";
 * const log = consoleLogger("warn");
 * log.info("not shown");
 * log.warn("shown", { peer: "2" });
 * ```
 */
export function consoleLogger(level: LogLevel = "info"): Logger {
  const min = LEVELS.indexOf(level);
  const on = (l: LogLevel) => LEVELS.indexOf(l) >= min;
  return {
    debug: (m, f) => on("debug") && console.debug(`rafthttp debug: ${m}${fmt(f)}`),
    info: (m, f) => on("info") && console.info(`rafthttp info: ${m}${fmt(f)}`),
    warn: (m, f) => on("warn") && console.warn(`rafthttp warn: ${m}${fmt(f)}`),
    error: (m, f) => on("error") && console.error(`rafthttp error: ${m}${fmt(f)}`),
  };
}

/**
 * A logger that discards everything.
 *
 * @example
 * ```ts
 * import { silentLogger } from "@rafthttp/rafthttp";
 * silentLogger.error("nobody sees this");
 * ```
 */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
