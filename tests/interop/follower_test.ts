// The test follower's raft rules, checked in isolation (no etcd needed): the
// interop scenarios rely on it answering exactly as a raft follower would.
import { assertEquals } from "@std/assert";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { type Message, MessageSchema, MessageType } from "../../raftpb/raft_pb.ts";
import type { Transporter } from "../../src/transport.ts";
import { Follower } from "./follower.ts";

const ME = 2n;
const LEADER = 1n;

function setup(): { f: Follower; out: Message[] } {
  const out: Message[] = [];
  const f = new Follower(ME);
  f.transport = { send: (msgs: Message[]) => out.push(...msgs) } as unknown as Transporter;
  return { f, out };
}

function m(type: MessageType, fields: MessageInitShape<typeof MessageSchema> = {}): Message {
  return create(MessageSchema, { from: LEADER, to: ME, ...fields, type });
}

function app(term: bigint, index: bigint, logTerm: bigint, entryTerms: bigint[], commit = 0n) {
  return m(MessageType.MsgApp, {
    term,
    index,
    logTerm,
    commit,
    entries: entryTerms.map((t, i) => ({ term: t, index: index + 1n + BigInt(i) })),
  });
}

function last(out: Message[]) {
  const r = out.at(-1)!;
  return {
    type: r.type,
    to: r.to,
    from: r.from,
    term: r.term,
    index: r.index,
    reject: r.reject,
    rejectHint: r.rejectHint,
  };
}

Deno.test("follower: votes once per term, for up-to-date candidates, with the request's term", () => {
  const { f, out } = setup();
  f.process(m(MessageType.MsgVote, { term: 2n, logTerm: 0n, index: 0n }));
  assertEquals(last(out), {
    type: MessageType.MsgVoteResp,
    to: LEADER,
    from: ME,
    term: 2n,
    index: 0n,
    reject: false,
    rejectHint: 0n,
  });
  assertEquals([f.term, f.vote], [2n, LEADER]);
  // Another candidate in the same term is refused.
  f.process(m(MessageType.MsgVote, { from: 3n, term: 2n }));
  assertEquals([last(out).to, last(out).reject, last(out).term], [3n, true, 2n]);
  // A candidate whose log is behind ours is refused even in a new term.
  f.process(app(2n, 0n, 0n, [2n, 2n]));
  f.process(m(MessageType.MsgVote, { from: 3n, term: 3n, logTerm: 2n, index: 1n }));
  assertEquals([last(out).reject, f.term, f.vote], [true, 3n, 0n]);
});

Deno.test("follower: a pre-vote keeps our term; a granted one answers with the future term", () => {
  const { f, out } = setup();
  f.process(app(1n, 0n, 0n, [1n]));
  f.process(m(MessageType.MsgPreVote, { from: 3n, term: 2n, logTerm: 1n, index: 1n }));
  assertEquals([last(out).type, last(out).term, last(out).reject], [
    MessageType.MsgPreVoteResp,
    2n,
    false,
  ]);
  assertEquals([f.term, f.vote], [1n, 0n]);
  // A stale pre-vote is rejected with our term.
  f.process(m(MessageType.MsgPreVote, { from: 3n, term: 1n, logTerm: 1n, index: 1n }));
  assertEquals([last(out).term, last(out).reject], [1n, true]);
});

Deno.test("follower: MsgApp appends, rejects a gap with a hint, truncates conflicts, commits", () => {
  const { f, out } = setup();
  f.process(app(1n, 0n, 0n, [1n, 1n, 1n], 2n));
  assertEquals([last(out).type, last(out).index, last(out).reject], [
    MessageType.MsgAppResp,
    3n,
    false,
  ]);
  assertEquals([f.lastIndex(), f.committed, f.term], [3n, 2n, 1n]);
  // Past our log: rejected, hint = our last index.
  f.process(app(1n, 10n, 1n, [1n]));
  assertEquals([last(out).index, last(out).reject, last(out).rejectHint], [10n, true, 3n]);
  // A new leader overwrites the uncommitted entry 3 with its own.
  f.process(app(2n, 2n, 1n, [2n, 2n], 4n));
  assertEquals([last(out).index, last(out).reject, last(out).term], [4n, false, 2n]);
  assertEquals([f.termAt(3n), f.termAt(4n), f.committed], [2n, 2n, 4n]);
  // Wrong logTerm at a known index: rejected.
  f.process(app(2n, 4n, 1n, [2n]));
  assertEquals([last(out).reject, last(out).rejectHint], [true, 4n]);
  // Below our commit index: answered with the commit index.
  f.process(app(2n, 1n, 1n, [1n]));
  assertEquals([last(out).index, last(out).reject], [4n, false]);
});

Deno.test("follower: heartbeats commit what we have and echo the context without an index", () => {
  const { f, out } = setup();
  f.process(app(1n, 0n, 0n, [1n, 1n]));
  f.process(m(MessageType.MsgHeartbeat, { term: 1n, commit: 5n, context: new Uint8Array([7]) }));
  const r = out.at(-1)!;
  assertEquals([r.type, r.term, r.index, r.context], [
    MessageType.MsgHeartbeatResp,
    1n,
    0n,
    new Uint8Array([7]),
  ]);
  assertEquals(f.committed, 2n);
  // A heartbeat from a stale leader gets an empty MsgAppResp with our term.
  f.process(m(MessageType.MsgVote, { from: 3n, term: 4n, logTerm: 1n, index: 2n }));
  f.process(m(MessageType.MsgHeartbeat, { term: 1n }));
  assertEquals([last(out).type, last(out).term], [MessageType.MsgAppResp, 4n]);
});

Deno.test("follower: a snapshot replaces the log; an old one is answered with the commit index", () => {
  const { f, out } = setup();
  f.process(app(1n, 0n, 0n, [1n, 1n], 2n));
  const snap = (index: bigint, term: bigint) =>
    m(MessageType.MsgSnap, { term: 3n, snapshot: { metadata: { index, term } } });
  f.process(snap(1000n, 3n));
  assertEquals([last(out).type, last(out).index, last(out).term], [
    MessageType.MsgAppResp,
    1000n,
    3n,
  ]);
  assertEquals([f.offset, f.lastIndex(), f.committed, f.lastTerm()], [1000n, 1000n, 1000n, 3n]);
  f.process(snap(500n, 2n));
  assertEquals([last(out).index, f.snapshots.map((s) => s.restored)], [1000n, [true, false]]);
  // Appends continue right after the snapshot.
  f.process(app(3n, 1000n, 3n, [3n], 1001n));
  assertEquals([last(out).index, last(out).reject, f.committed], [1001n, false, 1001n]);
});
