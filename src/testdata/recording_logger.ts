// A Logger for unit tests that keeps every line it is given.
import type { LogFields, Logger } from "../logger.ts";

/** One logged line. */
export interface Line {
  level: string;
  msg: string;
  fields?: LogFields;
}

/** A logger that records its lines in `lines`. */
export function recordingLogger(): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: string) => (msg: string, fields?: LogFields) =>
    void lines.push({ level, msg, fields });
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
