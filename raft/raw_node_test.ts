import { assert, assertEquals, assertThrows } from "@std/assert";
import { create, EntryType, MessageSchema, MessageType } from "../raftpb/mod.ts";
import { bootstrapPeers } from "./bootstrap.ts";
import {
  ConfigError,
  LocalMessageError,
  ProposalDroppedError,
  UnknownPeerError,
} from "./errors.ts";
import { MemoryStorage } from "./memory_storage.ts";
import { RawNode } from "./raw_node.ts";
import { bytes } from "./testing/test_cluster.ts";

Deno.test("raw node: local-only message types are refused from the network", () => {
  const node = new RawNode({ id: 1n, storage: new MemoryStorage() });
  for (
    const type of [
      MessageType.MsgHup,
      MessageType.MsgBeat,
      MessageType.MsgUnreachable,
      MessageType.MsgSnapStatus,
      MessageType.MsgCheckQuorum,
    ]
  ) {
    assertThrows(
      () => node.step(create(MessageSchema, { type, from: 2n, to: 1n })),
      LocalMessageError,
    );
  }
  assertEquals(node.status().state, "follower");
});

Deno.test("raw node: a response from a non-member is refused", () => {
  const node = new RawNode({ id: 1n, storage: new MemoryStorage() });
  node.bootstrap([1n, 2n]);
  const m = create(MessageSchema, { type: MessageType.MsgAppResp, from: 9n, to: 1n, term: 1n });
  assertThrows(() => node.step(m), UnknownPeerError);
});

Deno.test("raw node: bootstrap writes StartNode's log: one AddNode per peer at term 1", () => {
  const node = new RawNode({ id: 1n, storage: new MemoryStorage() });
  node.bootstrap([1n, 2n, 3n]);
  const rd = node.ready();
  assertEquals(rd.entries.map((e) => [e.index, e.term, e.type]), [
    [1n, 1n, EntryType.EntryConfChange],
    [2n, 1n, EntryType.EntryConfChange],
    [3n, 1n, EntryType.EntryConfChange],
  ]);
  assertEquals([rd.hardState?.term, rd.hardState?.commit], [1n, 3n]);
  assertEquals(rd.committedEntries.length, 3);
  assert(rd.mustSync);
});

Deno.test("raw node: bootstrapPeers writes the same log into storage", () => {
  const fromNode = new RawNode({ id: 1n, storage: new MemoryStorage() });
  fromNode.bootstrap([1n, 2n]);
  const expected = fromNode.ready().entries;
  const storage = new MemoryStorage();
  bootstrapPeers(storage, [1n, 2n]);
  assertEquals(storage.entries(1n, 3n, 1 << 20), expected);
  assertThrows(() => bootstrapPeers(storage, [1n]));
  assertThrows(() => bootstrapPeers(new MemoryStorage(), []), ConfigError);
});

Deno.test("raw node: propose without a leader throws ProposalDroppedError", () => {
  const node = new RawNode({ id: 1n, storage: new MemoryStorage() });
  node.bootstrap([1n, 2n, 3n]);
  assertThrows(() => node.propose(bytes("x")), ProposalDroppedError);
});

Deno.test("raw node: restart keeps term, vote and commit; hasReady is quiet after advance", () => {
  const storage = new MemoryStorage();
  const node = new RawNode({ id: 1n, storage });
  node.bootstrap([1n]);
  const drain = () => {
    while (node.hasReady()) {
      const rd = node.ready();
      if (rd.hardState) storage.setHardState(rd.hardState);
      storage.append(rd.entries);
      node.advance(rd);
    }
  };
  drain(); // applies the bootstrap conf change: only then may it campaign
  node.campaign();
  drain();
  const before = node.status();
  assertEquals(before.state, "leader");
  const again = new RawNode({ id: 1n, storage, applied: before.applied });
  const after = again.status();
  assertEquals([after.term, after.vote, after.commit, after.state], [
    before.term,
    before.vote,
    before.commit,
    "follower",
  ]);
  assertEquals(again.hasReady(), false);
});

Deno.test("raw node: invalid configs are refused with ConfigError", () => {
  const storage = new MemoryStorage();
  assertThrows(() => new RawNode({ id: 0n, storage }), ConfigError);
  assertThrows(() => new RawNode({ id: 1n, storage, electionTick: 1 }), ConfigError);
});
