// Hex vectors of etcd 3.4's wire format (captured from etcd; the project's wire notes), all
// produced by etcd's own marshaller, with the messages they encode.
import { create } from "npm:@bufbuild/protobuf@2.17.0";
import { EntryType, type Message, MessageSchema, MessageType } from "../../../raftpb/raft_pb.ts";

export function hex(s: string): Uint8Array {
  const clean = s.replace(/[^0-9a-f]/gi, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}

export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

const te = new TextEncoder();

export interface Vector {
  name: string;
  message: Message;
  hex: string;
}

export const MESSAGE_VECTORS: Vector[] = [
  {
    name: "link heartbeat Message{Type: MsgHeartbeat} (wire §9 example 1)",
    message: create(MessageSchema, { type: MessageType.MsgHeartbeat }),
    hex: "08081000180020002800300040004a0a12080a0228001000180050005800",
  },
  {
    name: "MsgApp with one entry (wire §9 example 2)",
    message: create(MessageSchema, {
      type: MessageType.MsgApp,
      from: 1n,
      to: 2n,
      term: 5n,
      logTerm: 5n,
      index: 10n,
      commit: 9n,
      entries: [{ term: 5n, index: 11n, data: te.encode("a") }],
    }),
    hex: "08031002180120052805300a3a0908001005180b22016140094a0a12080a0228001000180050005800",
  },
  {
    name: "MsgHeartbeat with small ids (details §17.2 A)",
    message: create(MessageSchema, {
      type: MessageType.MsgHeartbeat,
      to: 2n,
      from: 1n,
      term: 5n,
      commit: 10n,
    }),
    hex:
      "08 08 10 02 18 01 20 05 28 00 30 00 40 0a 4a 0a 12 08 0a 02 28 00 10 00 18 00 50 00 58 00",
  },
  {
    name: "MsgHeartbeat with real 64-bit ids (details §17.2 A)",
    message: create(MessageSchema, {
      type: MessageType.MsgHeartbeat,
      to: 0x8e9e05c52164694dn,
      from: 0x91bc3c398fb3c146n,
      term: 2n,
      commit: 7n,
    }),
    hex:
      "08 08 10 cd d2 91 8b d2 b8 81 cf 8e 01 18 c6 82 cf fd 98 87 8f de 91 01 20 02 28 00 30 00 40 07 4a 0a 12 08 0a 02 28 00 10 00 18 00 50 00 58 00",
  },
  {
    name: "MsgHeartbeat captured on a live message stream (details §6.5)",
    message: create(MessageSchema, {
      type: MessageType.MsgHeartbeat,
      to: 0x9e737febb6b99eeen,
      from: 0xddd67b312462fd7bn,
      term: 2n,
      commit: 7n,
    }),
    hex:
      "08 08 10 ee bd e6 b5 bb fd df b9 9e 01 18 fb fa 8b a3 92 e6 9e eb dd 01 20 02 28 00 30 00 40 07 4a 0a 12 08 0a 02 28 00 10 00 18 00 50 00 58 00",
  },
  {
    name: 'MsgApp with "abc" (details §17.2 B)',
    message: create(MessageSchema, {
      type: MessageType.MsgApp,
      to: 2n,
      from: 1n,
      term: 2n,
      logTerm: 2n,
      index: 5n,
      commit: 5n,
      entries: [{
        type: EntryType.EntryNormal,
        term: 2n,
        index: 6n,
        data: te.encode("abc"),
      }],
    }),
    hex:
      "08 03 10 02 18 01 20 02 28 02 30 05 3a 0b 08 00 10 02 18 06 22 03 61 62 63 40 05 4a 0a 12 08 0a 02 28 00 10 00 18 00 50 00 58 00",
  },
  {
    name: "MsgSnap with data and voters (details §17.2 C)",
    message: create(MessageSchema, {
      type: MessageType.MsgSnap,
      to: 2n,
      from: 1n,
      term: 3n,
      snapshot: {
        data: te.encode("v2"),
        metadata: {
          confState: { voters: [1n, 2n, 3n] },
          index: 100n,
          term: 3n,
        },
      },
    }),
    hex:
      "08 07 10 02 18 01 20 03 28 00 30 00 40 00 4a 14 0a 02 76 32 12 0e 0a 08 08 01 08 02 08 03 28 00 10 64 18 03 50 00 58 00",
  },
  {
    name: "MsgAppResp rejected with hint (details §17.2 D)",
    message: create(MessageSchema, {
      type: MessageType.MsgAppResp,
      to: 1n,
      from: 2n,
      term: 2n,
      index: 4n,
      reject: true,
      rejectHint: 3n,
    }),
    hex:
      "08 04 10 01 18 02 20 02 28 00 30 04 40 00 4a 0a 12 08 0a 02 28 00 10 00 18 00 50 01 58 03",
  },
  {
    name: "MsgReadIndex with context (details §17.2 D)",
    message: create(MessageSchema, {
      type: MessageType.MsgReadIndex,
      to: 1n,
      from: 2n,
      term: 2n,
      context: new Uint8Array([1, 2]),
    }),
    hex:
      "08 0f 10 01 18 02 20 02 28 00 30 00 40 00 4a 0a 12 08 0a 02 28 00 10 00 18 00 50 00 58 00 62 02 01 02",
  },
  {
    name: "MsgProp with an entry whose data is empty but present (details §17.2 D)",
    message: create(MessageSchema, {
      type: MessageType.MsgProp,
      entries: [{ data: new Uint8Array(0) }],
    }),
    hex:
      "08 02 10 00 18 00 20 00 28 00 30 00 3a 08 08 00 10 00 18 00 22 00 40 00 4a 0a 12 08 0a 02 28 00 10 00 18 00 50 00 58 00",
  },
  {
    name: "MsgProp with an entry whose data is absent (details §17.2 D)",
    message: create(MessageSchema, {
      type: MessageType.MsgProp,
      entries: [{}],
    }),
    hex:
      "08 02 10 00 18 00 20 00 28 00 30 00 3a 06 08 00 10 00 18 00 40 00 4a 0a 12 08 0a 02 28 00 10 00 18 00 50 00 58 00",
  },
  {
    name: "MsgSnap captured in a snapshot POST body (details §9.1)",
    message: create(MessageSchema, {
      type: MessageType.MsgSnap,
      to: 0x9e737febb6b99eeen,
      from: 0xddd67b312462fd7bn,
      term: 3n,
      snapshot: {
        data: te.encode("v2"),
        metadata: {
          confState: { voters: [1n, 2n, 3n] },
          index: 100n,
          term: 3n,
        },
      },
    }),
    hex:
      "08 07 10 ee bd e6 b5 bb fd df b9 9e 01 18 fb fa 8b a3 92 e6 9e eb dd 01 20 03 28 00 30 00 40 00 4a 14 0a 02 76 32 12 0e 0a 08 08 01 08 02 08 03 28 00 10 64 18 03 50 00 58 00",
  },
];

/**
 * Every field of a message as a plain object, reading zero values for unset
 * fields: equal for two messages that etcd would treat as equal. Bytes
 * fields show `null` when absent, so present-but-empty stays distinct.
 */
export function plainMessage(m: Message): unknown {
  const bytes = (b: Uint8Array | undefined, zero: boolean) => zero ? null : Array.from(b ?? []);
  return {
    type: m.type,
    to: m.to,
    from: m.from,
    term: m.term,
    logTerm: m.logTerm,
    index: m.index,
    entries: m.entries.map((e) => ({
      type: e.type,
      term: e.term,
      index: e.index,
      data: bytes(e.data, !Object.hasOwn(e, "data")),
    })),
    commit: m.commit,
    snapshot: m.snapshot === undefined ? null : {
      data: bytes(m.snapshot.data, !Object.hasOwn(m.snapshot, "data")),
      index: m.snapshot.metadata?.index ?? 0n,
      term: m.snapshot.metadata?.term ?? 0n,
      confState: {
        voters: m.snapshot.metadata?.confState?.voters ?? [],
        learners: m.snapshot.metadata?.confState?.learners ?? [],
        votersOutgoing: m.snapshot.metadata?.confState?.votersOutgoing ?? [],
        learnersNext: m.snapshot.metadata?.confState?.learnersNext ?? [],
        autoLeave: m.snapshot.metadata?.confState?.autoLeave ?? false,
      },
    },
    reject: m.reject,
    rejectHint: m.rejectHint,
    context: bytes(m.context, !Object.hasOwn(m, "context")),
  };
}
