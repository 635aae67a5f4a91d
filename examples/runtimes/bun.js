// Member 2, on Bun: `deno task build`, then bun examples/runtimes/bun.js
// "@rafthttp/rafthttp" is the bundle dist/rafthttp.js (mapped by tsconfig.json here).
import { create, MessageSchema, MessageType, Transport } from "@rafthttp/rafthttp";

const members = (process.env.MEMBERS ||
  "1=http://127.0.0.1:23801,2=http://127.0.0.1:23802,3=http://127.0.0.1:23803")
  .split(",").map((s) => s.split("=")).map(([id, url]) => ({ id: BigInt(id), url }));
const me = members.find((m) => m.id === 2n);

const transport = new Transport({
  id: me.id,
  clusterId: 7n,
  urls: [me.url],
  raft: {
    process: (m) => console.log(`bun got ${MessageType[m.type]} from ${m.from}`),
    isIDRemoved: () => false,
    reportUnreachable: () => {},
    reportSnapshot: () => {},
  },
});
Bun.serve({
  hostname: "127.0.0.1",
  port: Number(new URL(me.url).port),
  fetch: transport.handler(),
});
transport.start();
for (const m of members) if (m !== me) transport.addPeer(m.id, [m.url]);
setInterval(() => {
  transport.send(
    members.filter((m) => m !== me).map((m) =>
      create(MessageSchema, { type: MessageType.MsgHeartbeat, from: me.id, to: m.id, term: 1n })
    ),
  );
}, 1000);
