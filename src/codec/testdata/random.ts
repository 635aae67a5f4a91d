// Seeded random raft messages for property and fuzz tests.
import { create } from "npm:@bufbuild/protobuf@2.17.0";
import { type Message, MessageSchema } from "../../../raftpb/raft_pb.ts";

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randU64(rnd: () => number): bigint {
  switch (Math.floor(rnd() * 5)) {
    case 0:
      return 0n;
    case 1:
      return BigInt(Math.floor(rnd() * 128));
    case 2:
      return BigInt(Math.floor(rnd() * 2 ** 32));
    case 3:
      return BigInt(Math.floor(rnd() * 2 ** 53));
    default:
      return (BigInt(Math.floor(rnd() * 2 ** 32)) << 32n) |
        BigInt(Math.floor(rnd() * 2 ** 32));
  }
}

function randBytes(rnd: () => number, max: number): Uint8Array {
  const b = new Uint8Array(Math.floor(rnd() * max));
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

/** A message with every non-nullable field explicitly set, as etcd emits it. */
export function randomFullMessage(rnd: () => number): Message {
  const entries = [];
  const n = Math.floor(rnd() * 4);
  for (let i = 0; i < n; i++) {
    const e: Record<string, unknown> = {
      type: Math.floor(rnd() * 3),
      term: randU64(rnd),
      index: randU64(rnd),
    };
    if (rnd() < 0.8) e.data = randBytes(rnd, 300);
    entries.push(e);
  }
  const list = () => Array.from({ length: Math.floor(rnd() * 3) }, () => randU64(rnd));
  const snapshot: Record<string, unknown> = {
    metadata: {
      confState: {
        voters: list(),
        learners: list(),
        votersOutgoing: list(),
        learnersNext: list(),
        autoLeave: rnd() < 0.5,
      },
      index: randU64(rnd),
      term: randU64(rnd),
    },
  };
  if (rnd() < 0.3) snapshot.data = randBytes(rnd, 40);
  const init: Record<string, unknown> = {
    type: Math.floor(rnd() * 19),
    to: randU64(rnd),
    from: randU64(rnd),
    term: randU64(rnd),
    logTerm: randU64(rnd),
    index: randU64(rnd),
    entries,
    commit: randU64(rnd),
    snapshot,
    reject: rnd() < 0.5,
    rejectHint: randU64(rnd),
  };
  if (rnd() < 0.3) init.context = randBytes(rnd, 20);
  return create(MessageSchema, init);
}
