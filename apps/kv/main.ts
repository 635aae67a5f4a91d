/**
 * `deno task kv --id N --cluster URL1,URL2,URL3 --port P [--join]`: one
 * member of the replicated key-value service, with raftexample's command
 * line and HTTP API. The raft peer server listens on URL N; the key-value
 * API on `--port`. Ctrl-C (or SIGTERM) stops it cleanly; a member removed
 * from the cluster stops and exits 0; one that cannot go on (a failed fsync)
 * exits 1. For fault tests: `--test-hooks`, `--lazy-disk`, `--plant-bug`.
 *
 * @module
 */

import { consoleLogger } from "../../mod.ts";
import { FaultyFs } from "../../storage/mod.ts";
import { ArgsError, type KvArgs, parseArgs, USAGE } from "./args.ts";
import { createKvHandler, type KvTestHooks } from "./http_api.ts";
import { KvNode } from "./node.ts";
import { TraceRecorder } from "./trace.ts";

/**
 * The fault layer under the raft storage, for fault tests only: with
 * `--lazy-disk` (writes held until fsync), and with `--disk-faults` (so that
 * the disk hooks can arm faults; otherwise it writes through at once). A
 * torn WAL sync ends the process here, at the edge, with SIGKILL.
 */
function faultyDisk(args: KvArgs): FaultyFs | undefined {
  if (!args.diskFaults && !args.lazyDisk) return undefined;
  return new FaultyFs({ lazy: args.lazyDisk, crash: () => Deno.kill(Deno.pid, "SIGKILL") });
}

function testHooks(node: KvNode, disk: FaultyFs | undefined): KvTestHooks {
  return {
    cut: (id) => node.cutPeer(id),
    mend: (id) => node.mendPeer(id),
    status: () => node.status(),
    transfer: (id) => node.transferLeader(id),
    failFsync: disk && (() => disk.failNextFsync()),
    tear: disk && (() => disk.tearNextWalSync()),
    slowFsync: disk && ((ms) => disk.slowFsync(ms)),
    snapshot: () => node.takeSnapshot(),
    joint: (update, signal) => node.changeMembership(update, signal),
  };
}

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof ArgsError)) throw e;
    console.error(`${e.message}\n${USAGE}`);
    return 2;
  }
  let exit: (code: number) => void = () => {};
  const exited = new Promise<number>((resolve) => exit = resolve);
  const trace = args.trace === undefined ? undefined : new TraceRecorder(args.id);
  let node: KvNode;
  const disk = faultyDisk(args);
  if (args.plantBug !== undefined) {
    console.error(
      `member ${args.id} runs with the planted bug ${args.plantBug} (fault tests only)`,
    );
  }
  try {
    node = await KvNode.start({
      args,
      trace,
      storageFs: disk,
      plantBug: args.plantBug,
      logger: consoleLogger("warn"),
      onRemoved: () => {
        console.log(`member ${args.id} was removed from the cluster; shutting down`);
        exit(0);
      },
      onFatal: (e) => {
        console.error(`member ${args.id} stopped: ${e.message}`);
        exit(1);
      },
    });
  } catch (e) {
    if (!(e instanceof Deno.errors.AddrInUse)) throw e;
    const url = args.cluster[Number(args.id) - 1];
    console.error(`the raft peer address ${url} is taken; stop what uses it or change --cluster`);
    return 1;
  }
  const hooks = args.testHooks ? testHooks(node, disk) : undefined;
  let api: Deno.HttpServer<Deno.NetAddr>;
  try {
    api = Deno.serve(
      { hostname: args.host, port: args.port, onListen: () => {} },
      createKvHandler(node, { hooks, trace }),
    );
  } catch (e) {
    await node.stop();
    if (!(e instanceof Deno.errors.AddrInUse)) throw e;
    console.error(`port ${args.port} on ${args.host} is taken; run with another --port`);
    return 1;
  }
  console.log(
    `member ${args.id}: raft on ${args.cluster[Number(args.id) - 1]}, ` +
      `key-value API on http://${args.host}:${api.addr.port}, data in ${args.dataDir}`,
  );
  const onSignal = () => exit(0);
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const code = await exited;
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
  // First the member (a leader hands over; waiting requests get their 503 now), then the API.
  await node.stop({ handOver: code === 0 });
  await api.shutdown();
  if (trace !== undefined) await trace.writeTo(args.trace!);
  return code;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) {
      console.error(
        `a port is taken: ${(e as Error).message}; choose another --port or --cluster URL`,
      );
    } else console.error(`kv: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
