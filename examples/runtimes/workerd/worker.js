// Member 3, on workerd: `deno task build`, then
// workerd serve examples/runtimes/workerd/config.capnp
// The Worker hands everything to one Durable Object, which owns the transport
// (and starts with the first request: a peer dialling it).
import { create, MessageSchema, MessageType, Transport } from "@rafthttp/rafthttp";

export default {
  fetch: (req, env) => env.MEMBER.get(env.MEMBER.idFromName("raft")).fetch(req),
};

export class Member {
  constructor(state, env) {
    const members = (env.MEMBERS ||
      "1=http://127.0.0.1:23801,2=http://127.0.0.1:23802,3=http://127.0.0.1:23803")
      .split(",").map((s) => s.split("=")).map(([id, url]) => ({ id: BigInt(id), url }));
    const me = members.find((m) => m.id === 3n);
    this.state = state;
    this.transport = new Transport({
      id: me.id,
      clusterId: 7n,
      urls: [me.url],
      raft: {
        process: (m) => console.log(`workerd got ${MessageType[m.type]} from ${m.from}`),
        isIDRemoved: () => false,
        reportUnreachable: () => {},
        reportSnapshot: () => {},
      },
      // Pass a snapshot.sink that keeps the data: workerd's node:fs writes to
      // an in-memory /tmp that lives only as long as one request.
    });
    this.handler = this.transport.handler();
    this.transport.start();
    for (const m of members) if (m !== me) this.transport.addPeer(m.id, [m.url]);
    setInterval(() => {
      this.transport.send(
        members.filter((m) => m !== me).map((m) =>
          create(MessageSchema, { type: MessageType.MsgHeartbeat, from: me.id, to: m.id, term: 1n })
        ),
      );
    }, 1000);
    this.alarm();
  }

  fetch(req) {
    return this.handler(req);
  }

  // workerd evicts an object about 70 s after its last incoming request; an
  // alarm counts as one, so the member keeps dialling while its peers are down.
  alarm() {
    return this.state.storage.setAlarm(Date.now() + 30_000);
  }
}
