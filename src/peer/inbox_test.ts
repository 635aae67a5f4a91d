import { assert, assertEquals } from "@std/assert";
import { create, MessageSchema } from "../../raftpb/schemas.ts";
import { type Message, MessageType } from "../../raftpb/raft_pb.ts";
import type { Raft } from "../raft_node.ts";
import { type Logger, RateLimitedLog, silentLogger } from "../logger.ts";
import { newPeerStats } from "./stats.ts";
import { Inbox } from "./inbox.ts";
import { recordingLogger } from "../testdata/recording_logger.ts";

const PEER = 7n;

function msg(type: MessageType, index: number): Message {
  return create(MessageSchema, { type, from: PEER, to: 1n, index: BigInt(index) });
}

function raftWith(process: Raft["process"]): Raft {
  return {
    process,
    isIDRemoved: () => false,
    reportUnreachable() {},
    reportSnapshot() {},
  };
}

/** Polls `cond` every millisecond, failing after `ms`. */
async function until(cond: () => boolean, ms = 1000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** An inbox with its own abort controller and a log that is closed at `close()`. */
function setup(process: Raft["process"], receiveQueueSize = 64, logger: Logger = silentLogger) {
  const log = new RateLimitedLog(logger, 60_000);
  const stats = newPeerStats();
  const inbox = new Inbox(PEER, { receiveQueueSize, raft: raftWith(process) }, log, stats);
  const ac = new AbortController();
  return {
    inbox,
    stats,
    ac,
    async close() {
      ac.abort();
      await inbox.stop();
      log.close();
    },
  };
}

Deno.test("Inbox: messages reach raft.process in the order they were pushed", async () => {
  const got: bigint[] = [];
  const t = setup((m) => void got.push(m.index));
  try {
    t.inbox.start(t.ac.signal);
    for (let i = 0; i < 50; i++) t.inbox.push(msg(MessageType.MsgApp, i));
    await until(() => got.length === 50);
    // More after the loop parked on an empty queue.
    for (let i = 50; i < 60; i++) t.inbox.push(msg(MessageType.MsgHeartbeat, i));
    await until(() => got.length === 60);
    assertEquals(got, Array.from({ length: 60 }, (_, i) => BigInt(i)));
    assertEquals(t.stats.receiveDrops, 0);
  } finally {
    await t.close();
  }
});

Deno.test("Inbox: an asynchronous process is awaited, one message at a time", async () => {
  const got: bigint[] = [];
  let running = 0;
  let maxRunning = 0;
  const t = setup(async (m) => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    await new Promise((r) => setTimeout(r, 1));
    got.push(m.index);
    running--;
  });
  try {
    t.inbox.start(t.ac.signal);
    for (let i = 0; i < 10; i++) t.inbox.push(msg(MessageType.MsgApp, i));
    await until(() => got.length === 10);
    assertEquals(got, Array.from({ length: 10 }, (_, i) => BigInt(i)));
    assertEquals(maxRunning, 1, "process ran concurrently for one peer's messages");
  } finally {
    await t.close();
  }
});

Deno.test("Inbox: a blocked proposal does not stall other raft traffic", async () => {
  const got: string[] = [];
  let release!: () => void;
  const blocked = new Promise<void>((r) => release = r);
  const t = setup(async (m, signal) => {
    got.push(`${MessageType[m.type]}:${m.index}`);
    if (m.type === MessageType.MsgProp && m.index === 0n) {
      signal.addEventListener("abort", () => release(), { once: true });
      await blocked;
    }
  });
  try {
    t.inbox.start(t.ac.signal);
    t.inbox.push(msg(MessageType.MsgProp, 0));
    t.inbox.push(msg(MessageType.MsgProp, 1));
    t.inbox.push(msg(MessageType.MsgApp, 2));
    t.inbox.push(msg(MessageType.MsgHeartbeat, 3));
    await until(() => got.length === 3);
    assertEquals(got, ["MsgProp:0", "MsgApp:2", "MsgHeartbeat:3"]);
    assertEquals(t.inbox.queued, { received: 0, proposals: 1 });
    release();
    await until(() => got.length === 4);
    assertEquals(got[3], "MsgProp:1", "proposals keep their own order");
  } finally {
    await t.close();
  }
});

Deno.test("Inbox: a full queue drops, counts receiveDrops and logs", async () => {
  const logger = recordingLogger();
  const t = setup(() => {}, 2, logger);
  try {
    // Not started: nothing drains, so the queues fill.
    for (let i = 0; i < 5; i++) t.inbox.push(msg(MessageType.MsgApp, i));
    assertEquals(t.inbox.queued, { received: 2, proposals: 0 });
    assertEquals(t.stats.receiveDrops, 3);
    // The proposals' queue is separate: it still takes two.
    t.inbox.push(msg(MessageType.MsgProp, 5));
    t.inbox.push(msg(MessageType.MsgProp, 6));
    assertEquals(t.inbox.queued, { received: 2, proposals: 2 });
    assertEquals(t.stats.receiveDrops, 3);
    t.inbox.push(msg(MessageType.MsgProp, 7));
    assertEquals(t.stats.receiveDrops, 4);
    // The first drop is logged at once; the rest are rate-limited into one summary.
    assertEquals(logger.lines.length, 1);
    const [line] = logger.lines;
    assertEquals(line.level, "warn");
    assert(line.msg.includes("receive queue is full"), line.msg);
    assertEquals(line.fields, { "remote-peer-id": "7", type: "MsgApp" });
  } finally {
    await t.close();
  }
  // close() flushed the summary of the three suppressed drops.
  assertEquals(logger.lines.length, 2);
  assertEquals(logger.lines[1].fields?.count, 3);
  assertEquals(logger.lines[1].fields?.type, "MsgProp");
});

Deno.test("Inbox: a throwing process is logged and the loop goes on", async () => {
  const logger = recordingLogger();
  const got: bigint[] = [];
  const t = setup(
    (m) => {
      got.push(m.index);
      if (m.index === 1n) throw new Error("raft is broken");
    },
    64,
    logger,
  );
  try {
    t.inbox.start(t.ac.signal);
    for (let i = 0; i < 3; i++) t.inbox.push(msg(MessageType.MsgApp, i));
    await until(() => got.length === 3);
    assertEquals(got, [0n, 1n, 2n]);
    assertEquals(logger.lines.length, 1);
    assertEquals(logger.lines[0].fields, {
      "remote-peer-id": "7",
      type: "MsgApp",
      error: "raft is broken",
    });
  } finally {
    await t.close();
  }
});

Deno.test("Inbox: stop() ends the loops, waits for the message in process, and empties", async () => {
  const got: bigint[] = [];
  let finished = false;
  const t = setup(async (m) => {
    got.push(m.index);
    if (m.index === 0n) {
      await new Promise((r) => setTimeout(r, 20));
      finished = true;
    }
  });
  t.inbox.start(t.ac.signal);
  t.inbox.push(msg(MessageType.MsgApp, 0));
  t.inbox.push(msg(MessageType.MsgApp, 1));
  await until(() => got.length === 1);
  t.ac.abort();
  await t.inbox.stop();
  assert(finished, "stop() returned before the message in process was done");
  assertEquals(got, [0n], "a loop went on after the abort");
  assertEquals(t.inbox.queued, { received: 0, proposals: 0 }, "stop() must empty the queues");
  // The loops are gone: later pushes are queued but never processed.
  t.inbox.push(msg(MessageType.MsgApp, 2));
  await new Promise((r) => setTimeout(r, 10));
  assertEquals(got, [0n]);
  await t.close();
});

Deno.test("Inbox: stop() of idle loops returns once the signal aborted", async () => {
  const t = setup(() => {});
  t.inbox.start(t.ac.signal);
  await new Promise((r) => setTimeout(r, 5)); // both loops parked on empty queues
  await t.close(); // would hang (and the test time out) if a parked loop did not end
});
