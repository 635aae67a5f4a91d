/**
 * The generated raftpb schemas, re-exported with documentation. Use them
 * with `@bufbuild/protobuf`'s `create`, `toBinary`, `fromBinary`, `toJson`...
 *
 * The constants are typed `(typeof gen)["XSchema"]`, which is exactly the
 * generated `GenMessage<X>`: written that way because `deno doc --lint`
 * counts `GenMessage` (an npm type with a private brand) as a private type.
 *
 * @module
 */

import * as gen from "./raft_pb.ts";
import * as protobuf from "npm:@bufbuild/protobuf@2.17.0";

/**
 * `@bufbuild/protobuf`'s `create`, re-exported: builds a message from a
 * schema and field values. Users of the single-file bundle (Bun, workerd)
 * get it from the module itself, without a second copy of the protobuf
 * runtime.
 *
 * @example
 * ```ts
 * import { create, MessageSchema, MessageType } from "@rafthttp/rafthttp";
 * const m = create(MessageSchema, { type: MessageType.MsgHeartbeat, to: 2n, from: 1n });
 * console.log(m.to); // 2n
 * ```
 */
export const create: (typeof protobuf)["create"] = protobuf.create;

/**
 * Schema of a raft {@link gen.Message}.
 *
 * @example
 * ```ts
 * import { create } from "@rafthttp/rafthttp";
 * import { MessageSchema, MessageType } from "@rafthttp/rafthttp";
 * const m = create(MessageSchema, { type: MessageType.MsgVote, to: 2n, from: 1n, term: 4n });
 * console.log(m.term); // 4n
 * ```
 */
export const MessageSchema: (typeof gen)["MessageSchema"] = gen.MessageSchema;

/**
 * Schema of a log {@link gen.Entry}.
 *
 * @example
 * ```ts
 * import { create } from "@rafthttp/rafthttp";
 * import { EntrySchema } from "@rafthttp/rafthttp";
 * console.log(create(EntrySchema, { index: 7n }).index); // 7n
 * ```
 */
export const EntrySchema: (typeof gen)["EntrySchema"] = gen.EntrySchema;

/**
 * Schema of a {@link gen.Snapshot}.
 *
 * @example
 * ```ts
 * import { create } from "@rafthttp/rafthttp";
 * import { SnapshotSchema } from "@rafthttp/rafthttp";
 * console.log(create(SnapshotSchema).metadata); // undefined
 * ```
 */
export const SnapshotSchema: (typeof gen)["SnapshotSchema"] = gen.SnapshotSchema;

/**
 * Schema of {@link gen.SnapshotMetadata}.
 *
 * @example
 * ```ts
 * import { create } from "@rafthttp/rafthttp";
 * import { SnapshotMetadataSchema } from "@rafthttp/rafthttp";
 * console.log(create(SnapshotMetadataSchema, { index: 5n }).index); // 5n
 * ```
 */
export const SnapshotMetadataSchema: (typeof gen)["SnapshotMetadataSchema"] =
  gen.SnapshotMetadataSchema;

/**
 * Schema of a {@link gen.ConfState}.
 *
 * @example
 * ```ts
 * import { create } from "@rafthttp/rafthttp";
 * import { ConfStateSchema } from "@rafthttp/rafthttp";
 * console.log(create(ConfStateSchema, { learners: [4n] }).learners); // [4n]
 * ```
 */
export const ConfStateSchema: (typeof gen)["ConfStateSchema"] = gen.ConfStateSchema;

/**
 * Schema of a {@link gen.HardState}.
 *
 * @example
 * ```ts
 * import { create } from "@rafthttp/rafthttp";
 * import { HardStateSchema } from "@rafthttp/rafthttp";
 * console.log(create(HardStateSchema, { vote: 3n }).vote); // 3n
 * ```
 */
export const HardStateSchema: (typeof gen)["HardStateSchema"] = gen.HardStateSchema;

/**
 * Schema of a {@link gen.ConfChange}.
 *
 * @example
 * ```ts
 * import { toBinary } from "npm:@bufbuild/protobuf@2.17.0";
 * import { ConfChangeSchema, create } from "@rafthttp/rafthttp";
 * const bytes = toBinary(ConfChangeSchema, create(ConfChangeSchema, { nodeId: 2n }));
 * console.log(bytes.length > 0); // true
 * ```
 */
export const ConfChangeSchema: (typeof gen)["ConfChangeSchema"] = gen.ConfChangeSchema;

/**
 * Schema of a {@link gen.ConfChangeSingle}.
 *
 * @example
 * ```ts
 * import { create } from "@rafthttp/rafthttp";
 * import { ConfChangeSingleSchema } from "@rafthttp/rafthttp";
 * console.log(create(ConfChangeSingleSchema, { nodeId: 2n }).nodeId); // 2n
 * ```
 */
export const ConfChangeSingleSchema: (typeof gen)["ConfChangeSingleSchema"] =
  gen.ConfChangeSingleSchema;

/**
 * Schema of a {@link gen.ConfChangeV2}.
 *
 * @example
 * ```ts
 * import { create } from "@rafthttp/rafthttp";
 * import { ConfChangeV2Schema } from "@rafthttp/rafthttp";
 * console.log(create(ConfChangeV2Schema).changes.length); // 0
 * ```
 */
export const ConfChangeV2Schema: (typeof gen)["ConfChangeV2Schema"] = gen.ConfChangeV2Schema;
