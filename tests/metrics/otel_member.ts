// Two members in one process (1 and 2, on the ports given), created with the
// default MeterProvider: under OTEL_DENO=true that is Deno's built-in
// exporter. Member 1 sends traffic and probes; the process ends when its
// stdin closes (the test saw what it waited for) or after 20 s.
import { Transport } from "../../src/transport.ts";
import { serve } from "../../src/edge/serve.ts";
import { silentLogger } from "../../src/logger.ts";
import { create, MessageSchema } from "../../raftpb/schemas.ts";
import { MessageType } from "../../raftpb/raft_pb.ts";

const ports = Deno.args.map(Number);
const members = await Promise.all(ports.map(async (port, i) => {
  const transport = new Transport({
    id: BigInt(i + 1),
    clusterId: 0xc1n,
    urls: [`http://127.0.0.1:${port}`],
    raft: { process() {}, isIDRemoved: () => false, reportUnreachable() {}, reportSnapshot() {} },
    logger: silentLogger,
    probeIntervalMs: i === 0 ? 100 : 0,
  });
  const server = await serve(transport, { port });
  transport.start();
  return { transport, server };
}));
members[0].transport.addPeer(2n, [`http://127.0.0.1:${ports[1]}`]);
members[1].transport.addPeer(1n, [`http://127.0.0.1:${ports[0]}`]);
const timer = setInterval(() => {
  members[0].transport.send([
    create(MessageSchema, { type: MessageType.MsgHeartbeat, from: 1n, to: 2n }),
  ]);
}, 50);
console.log("ready");
const deadline = new Promise((r) => setTimeout(r, 20_000));
const stdinClosed = (async () => {
  for await (const _ of Deno.stdin.readable) { /* until EOF */ }
})();
await Promise.race([stdinClosed, deadline]);
clearInterval(timer);
for (const m of members) {
  await m.transport.stop();
  await m.server.shutdown();
}
Deno.exit(0);
