// Member 1 of a three-runtime cluster, on Deno: deno run -A examples/runtimes/deno.ts
// (Bun's member 2 is bun.js, workerd's member 3 is workerd/.) Every member
// sends the others a heartbeat each second and prints what it gets.
import { create, MessageSchema, MessageType, serve, Transport } from "@rafthttp/rafthttp";

const members = (Deno.env.get("MEMBERS") ||
  "1=http://127.0.0.1:23801,2=http://127.0.0.1:23802,3=http://127.0.0.1:23803")
  .split(",").map((s) => s.split("=")).map(([id, url]) => ({ id: BigInt(id), url }));
const me = members.find((m) => m.id === 1n)!;

const transport = new Transport({
  id: me.id,
  clusterId: 7n,
  urls: [me.url],
  raft: {
    process: (m) => console.log(`deno got ${MessageType[m.type]} from ${m.from}`),
    isIDRemoved: () => false,
    reportUnreachable: () => {},
    reportSnapshot: () => {},
  },
});
await serve(transport, { port: Number(new URL(me.url).port) });
transport.start();
for (const m of members) if (m !== me) transport.addPeer(m.id, [m.url]);
setInterval(() => {
  transport.send(
    members.filter((m) => m !== me).map((m) =>
      create(MessageSchema, { type: MessageType.MsgHeartbeat, from: me.id, to: m.id, term: 1n })
    ),
  );
}, 1000);
