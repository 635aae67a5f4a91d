// How fast the snapshot extension's digest candidates hash, and what the
// extension costs a snapshot between two in-process members on 127.0.0.1.
//   deno run -A bench/snapshot_digest.ts [MiB]   (default 256; under a minute)
// Environment: ONLY=on|off (one transfer, no hash table), KEEP=<bytes> (the
// resume store's maxBytes; 0 keeps nothing), WINDOW=<bytes>, SINK=file (the
// default FileSnapshotSink into a temporary directory instead of a sink that
// discards the data).
import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import { FileSnapshotSink, snapshotResume, Transport } from "../mod.ts";
import { MessageType } from "../raftpb/raft_pb.ts";
import { SnapshotMessage } from "../src/snapshot/message.ts";
import { msg } from "../tests/harness.ts";

const mib = Number(Deno.args[0] ?? 256);
const only = Deno.env.get("ONLY");
const buf = new Uint8Array(1 << 20);
crypto.getRandomValues(buf.subarray(0, 65536));

if (!only) {
  // 64 MiB of distinct buffers, so that CRC-32 does not run from the cache.
  const bufs = Array.from({ length: 64 }, () => buf.slice());
  const t = performance.now();
  let c = 0;
  for (let r = 0; r < 4; r++) for (const b of bufs) c = crc32(b, c);
  console.log(
    `crc32      ${((256 << 20) / ((performance.now() - t) / 1000) / 1e6).toFixed(0)} MB/s`,
  );
}
for (const alg of only ? [] : ["sha256", "sha1", "md5", "sha512", "blake2b512"]) {
  const t = performance.now();
  const h = createHash(alg);
  for (let i = 0; i < 256; i++) h.update(buf);
  h.digest();
  console.log(
    `${alg.padEnd(10)} ${((256 << 20) / ((performance.now() - t) / 1000) / 1e6).toFixed(0)} MB/s`,
  );
}

async function transfer(enabled: boolean): Promise<number> {
  const raft = {
    process() {},
    isIDRemoved: () => false,
    reportUnreachable() {},
    reportSnapshot() {},
  };
  const dir = Deno.env.get("SINK") === "file" ? await Deno.makeTempDir() : undefined;
  const sink = dir !== undefined ? new FileSnapshotSink(dir) : {
    async save(_m: unknown, data: ReadableStream<Uint8Array>) {
      for await (const _ of data) { /* discard */ }
    },
  };
  const mk = (id: bigint) => {
    let handler = (_r: Request) => Promise.resolve(new Response(null, { status: 503 }));
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (r) => handler(r));
    const url = `http://127.0.0.1:${server.addr.port}`;
    const t = new Transport({
      id,
      clusterId: 1n,
      urls: [url],
      raft,
      snapshot: { sink },
      probeIntervalMs: 0,
      extensions: enabled
        ? [snapshotResume({
          maxBytes: Number(Deno.env.get("KEEP") ?? 2 ** 30),
          windowSize: Number(Deno.env.get("WINDOW") ?? 1 << 20),
        })]
        : [],
    });
    handler = t.handler();
    t.start();
    return { t, server, url };
  };
  const a = mk(1n);
  const b = mk(2n);
  a.t.addPeer(2n, [b.url]);
  b.t.addPeer(1n, [a.url]);
  const size = mib << 20;
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent >= size) return c.close();
      sent += buf.length;
      c.enqueue(buf.slice());
    },
  }, { highWaterMark: 0 });
  const m = msg(MessageType.MsgSnap, 1n, 2n, { snapshot: { metadata: { index: 5n, term: 1n } } });
  const snap = new SnapshotMessage(m, body, size);
  const t0 = performance.now();
  a.t.sendSnapshot(snap);
  if (!(await snap.done)) throw new Error("snapshot failed");
  const s = (performance.now() - t0) / 1000;
  await Promise.all([a.t.stop(), b.t.stop()]);
  await Promise.all([a.server.shutdown(), b.server.shutdown()]);
  if (dir !== undefined) await Deno.remove(dir, { recursive: true });
  return size / s / 1e6;
}

for (
  const enabled of only === "on" ? [true] : only === "off" ? [false] : [false, true, false, true]
) {
  console.log(
    `snapshot ${mib} MiB, extension ${enabled ? "on " : "off"}: ${
      (await transfer(enabled)).toFixed(0)
    } MB/s`,
  );
}
