// DiskStorage under the real core: a one-member cluster writes, snapshots,
// stops, and a new RawNode on the reopened storage continues where it was.
import { fromBinary } from "npm:@bufbuild/protobuf@2.17.0";
import { assert, assertEquals } from "@std/assert";
import { ConfChangeSchema, type ConfState, EntryType, type Logger } from "../raftpb/mod.ts";
import { DiskStorage } from "./disk_storage.ts";
import { RawNode } from "../raft/raw_node.ts";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const text = (b: Uint8Array) => new TextDecoder().decode(b);

class Member {
  applied: string[] = [];
  appliedIndex = 0n;
  confState: ConfState | undefined;
  constructor(readonly node: RawNode, readonly disk: DiskStorage) {}

  // Persist, apply, advance until the core has nothing more (a lone member sends nothing).
  async drain(): Promise<void> {
    for (let i = 0; i < 100 && this.node.hasReady(); i++) {
      const rd = this.node.ready();
      await this.disk.save(rd);
      for (const e of rd.committedEntries) {
        if (e.type === EntryType.EntryConfChange) {
          this.confState = this.node.applyConfChange(fromBinary(ConfChangeSchema, e.data));
        } else if (e.data.length > 0) this.applied.push(text(e.data));
        this.appliedIndex = e.index;
      }
      this.node.advance(rd);
    }
  }
}

Deno.test("disk storage + RawNode: a member restarts from its snapshot and WAL and goes on", async () => {
  const dir = await Deno.makeTempDir({ prefix: "disk_restart_test_" });
  try {
    const disk = await DiskStorage.open(dir, { logger: quiet });
    const first = new Member(new RawNode({ id: 1n, storage: disk.storage, logger: quiet }), disk);
    first.node.bootstrap([1n]);
    await first.drain(); // the bootstrap conf change is applied before campaigning, as in etcd
    first.node.campaign();
    await first.drain();
    assertEquals(first.node.status().state, "leader");
    for (const v of ["a", "b", "c"]) first.node.propose(new TextEncoder().encode(v));
    await first.drain();
    const state = new TextEncoder().encode(JSON.stringify(first.applied));
    const snap = disk.storage.createSnapshot(first.appliedIndex, first.confState, state);
    await disk.saveSnapshot(snap);
    first.node.propose(new TextEncoder().encode("d"));
    await first.drain();
    assertEquals(first.applied, ["a", "b", "c", "d"]);
    const term = first.node.status().term;
    await disk.close();

    const again = await DiskStorage.open(dir, { logger: quiet });
    const restored = again.restoredSnapshot!;
    assertEquals(restored.metadata?.confState?.voters, [1n]);
    const applied = restored.metadata!.index;
    const node = new RawNode({ id: 1n, storage: again.storage, applied, logger: quiet });
    const second = new Member(node, again);
    second.applied = JSON.parse(text(restored.data));
    second.appliedIndex = applied;
    assertEquals(second.applied, ["a", "b", "c"]);
    second.node.campaign();
    await second.drain();
    assert(second.node.status().term > term, "a new term after the restart");
    second.node.propose(new TextEncoder().encode("e"));
    await second.drain();
    assertEquals(second.applied, ["a", "b", "c", "d", "e"]); // d replayed from the WAL
    await again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
