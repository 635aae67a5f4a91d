import { assert, assertEquals } from "@std/assert";
import { guardLogger, type Logger, RateLimitedLog } from "./logger.ts";
import { recordingLogger } from "./testdata/recording_logger.ts";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `cond` every few milliseconds, failing after `ms`. */
async function until(cond: () => boolean, ms = 1000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error(`condition not met within ${ms} ms`);
    await sleep(2);
  }
}

Deno.test("RateLimitedLog: the first event is logged at once, at its level", () => {
  const logger = recordingLogger();
  const log = new RateLimitedLog(logger, 60_000);
  try {
    log.event("drop:2", "warn", "dropped a message", { peer: "2" });
    assertEquals(logger.lines, [{
      level: "warn",
      msg: "dropped a message",
      fields: { peer: "2" },
    }]);
  } finally {
    log.close();
  }
});

Deno.test("RateLimitedLog: later events in the window become one summary line with count", async () => {
  const logger = recordingLogger();
  const log = new RateLimitedLog(logger, 50);
  try {
    log.event("drop:2", "warn", "dropped", { peer: "2", n: 0 });
    for (let i = 1; i <= 4; i++) log.event("drop:2", "warn", "dropped", { peer: "2", n: i });
    assertEquals(logger.lines.length, 1, "events inside the window must wait");
    await until(() => logger.lines.length === 2);
    const summary = logger.lines[1];
    assertEquals(summary.level, "warn");
    assertEquals(summary.msg, "dropped (4 more in the last 0.05 s)");
    assertEquals(summary.fields, { peer: "2", n: 4, count: 4 }, "the last event's fields");
    await sleep(70);
    assertEquals(logger.lines.length, 2, "no summary without new events");
  } finally {
    log.close();
  }
});

Deno.test("RateLimitedLog: keys are limited independently", () => {
  const logger = recordingLogger();
  const log = new RateLimitedLog(logger, 60_000);
  try {
    log.event("drop:2", "warn", "dropped", { peer: "2" });
    log.event("drop:3", "warn", "dropped", { peer: "3" });
    log.event("drop:2", "warn", "dropped", { peer: "2" });
    log.event("dial:2", "info", "dial failed");
    assertEquals(logger.lines.map((l) => [l.level, l.fields?.peer]), [
      ["warn", "2"],
      ["warn", "3"],
      ["info", undefined],
    ]);
  } finally {
    log.close();
  }
});

Deno.test("RateLimitedLog: an event after a quiet window is logged at once again", async () => {
  const logger = recordingLogger();
  const log = new RateLimitedLog(logger, 30);
  try {
    log.event("k", "info", "first");
    await sleep(45);
    log.event("k", "info", "again");
    assertEquals(logger.lines.map((l) => l.msg), ["first", "again"]);
  } finally {
    log.close();
  }
});

Deno.test("RateLimitedLog: close() flushes pending summaries at once and clears timers", () => {
  const logger = recordingLogger();
  const log = new RateLimitedLog(logger, 60_000);
  log.event("a", "error", "bad", { x: 1 });
  log.event("a", "error", "bad", { x: 2 });
  log.event("a", "error", "bad", { x: 3 });
  log.event("b", "warn", "other");
  log.event("b", "warn", "other");
  assertEquals(logger.lines.length, 2);
  // Two summary timers (a minute away) are pending: close must release them,
  // or the test's timer sanitizer fails.
  log.close();
  assertEquals(logger.lines.slice(2), [
    { level: "error", msg: "bad (2 more in the last 60 s)", fields: { x: 3, count: 2 } },
    { level: "warn", msg: "other (1 more in the last 60 s)", fields: { count: 1 } },
  ]);
  log.event("a", "error", "after close");
  assertEquals(logger.lines.length, 4, "a closed log logs nothing");
});

Deno.test("guardLogger: a throwing logger loses the line, nothing else", () => {
  const throwing: Logger = {
    debug: () => {
      throw new Error("debug broke");
    },
    info: () => {
      throw new Error("info broke");
    },
    warn: () => {
      throw new Error("warn broke");
    },
    error: () => {
      throw new Error("error broke");
    },
  };
  const g = guardLogger(throwing);
  g.debug("a");
  g.info("b", { k: 1 });
  g.warn("c");
  g.error("d");
  // And a RateLimitedLog over it keeps working.
  const log = new RateLimitedLog(g, 60_000);
  log.event("k", "warn", "x");
  log.event("k", "warn", "x");
  log.close();
});

Deno.test("guardLogger: passes every line, level and fields through", () => {
  const logger = recordingLogger();
  const g = guardLogger(logger);
  g.debug("d", { a: 1 });
  g.info("i");
  g.warn("w", { b: 2 });
  g.error("e");
  assertEquals(logger.lines, [
    { level: "debug", msg: "d", fields: { a: 1 } },
    { level: "info", msg: "i", fields: undefined },
    { level: "warn", msg: "w", fields: { b: 2 } },
    { level: "error", msg: "e", fields: undefined },
  ]);
  assert(g !== logger);
});
