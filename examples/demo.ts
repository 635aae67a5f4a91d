/**
 * `deno task demo`: a three-member cluster on 127.0.0.1 in one process,
 * with real HTTP between the members, each member a Raft core (`RawNode`).
 * Member 1 campaigns first and leads; it replicates entries to 2 and 3;
 * member 3 is stopped, falls behind, comes back on its storage and is sent a
 * snapshot; the live view shows each link's channels, rates, drops and
 * `activeSince`; the summary and its checks end it (exit 0 when they all
 * hold) after about 15 s.
 *
 * Options: `--base-port N` (ports N, N+1, N+2; default 23791), `--fast`
 * (the same story in about 4 s, with a smaller snapshot).
 *
 * @module
 */

import { PortTakenError } from "./demo/cluster.ts";
import { Demo, FAST, Interrupted, NORMAL } from "./demo/scenario.ts";
import { summary } from "./demo/summary.ts";
import { LiveView } from "./demo/view.ts";

const USAGE = `usage: deno task demo [--base-port N] [--fast] [--snapshot-rate N]

  --base-port N       listen on 127.0.0.1 ports N, N+1 and N+2 (default 23791)
  --fast              the same story in about 4 s, with a 4 MiB snapshot
  --snapshot-rate N   read the snapshot data at up to N MiB/s, as from a disk
                      (default 32, so that the 64 MiB take about 2 s; 0: no limit)
`;

/** Command-line options. */
interface Args {
  basePort: number;
  fast: boolean;
  snapshotRate: number | undefined;
}

/** Parses the arguments; a string is an error message. */
function parseArgs(args: string[]): Args | string {
  const out: Args = { basePort: 23791, fast: false, snapshotRate: undefined };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => a.includes("=") ? a.slice(a.indexOf("=") + 1) : args[++i];
    if (a === "--fast") {
      out.fast = true;
    } else if (a === "--base-port" || a.startsWith("--base-port=")) {
      const v = value();
      const n = Number(v);
      if (v === undefined || !/^\d+$/.test(v) || n < 1 || n > 65533) {
        return `--base-port needs a port number from 1 to 65533, got ${v ?? "nothing"}`;
      }
      out.basePort = n;
    } else if (a === "--snapshot-rate" || a.startsWith("--snapshot-rate=")) {
      const v = value();
      const n = Number(v);
      if (v === undefined || v === "" || !Number.isFinite(n) || n < 0) {
        return `--snapshot-rate needs a number of MiB/s (0: no limit), got ${v ?? "nothing"}`;
      }
      out.snapshotRate = n * 1024 * 1024;
    } else if (a === "--help" || a === "-h") {
      return "";
    } else {
      return `unknown argument: ${a}`;
    }
  }
  return out;
}

const encoder = new TextEncoder();
const closed = new Set<unknown>();

/** Writes all of `text`; a closed output (`deno task demo | head`) is dropped, not fatal. */
function writeAll(file: { writeSync(p: Uint8Array): number }, text: string): void {
  if (closed.has(file)) return;
  let bytes = encoder.encode(text);
  try {
    while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
  } catch (e) {
    if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
    closed.add(file);
  }
}

async function main(): Promise<number> {
  const args = parseArgs(Deno.args);
  if (typeof args === "string") {
    writeAll(Deno.stderr, (args === "" ? "" : `${args}\n\n`) + USAGE);
    return args === "" ? 0 : 2;
  }
  const plan = { ...(args.fast ? FAST : NORMAL) };
  if (args.snapshotRate !== undefined) plan.snapshotRate = args.snapshotRate;
  const demo = new Demo(args.basePort, plan);
  const view = new LiveView(demo, {
    tty: Deno.stdout.isTerminal(),
    write: (text) => writeAll(Deno.stdout, text),
    size: () => {
      try {
        return Deno.consoleSize();
      } catch {
        return { columns: 0, rows: 0 };
      }
    },
  });
  demo.onEvent = (text) => view.event(text);

  // Ctrl-C (or SIGTERM) stops the timeline and cleans up; a second one exits at once.
  const interrupt = new AbortController();
  const onSignal = () => {
    if (interrupt.signal.aborted) Deno.exit(130);
    interrupt.abort();
  };
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);

  let code = 0;
  let completed = false;
  try {
    view.start();
    await demo.run(interrupt.signal);
    completed = true;
  } catch (e) {
    view.stop();
    if (e instanceof PortTakenError) {
      writeAll(Deno.stderr, `${e.message}\n`);
      code = 1;
    } else if (e instanceof Interrupted) {
      writeAll(Deno.stderr, "interrupted: stopping the members\n");
      code = 130;
    } else {
      writeAll(Deno.stderr, `demo failed: ${e instanceof Error ? e.stack : e}\n`);
      code = 1;
    }
  } finally {
    view.stop();
    demo.onEvent = () => {}; // what the transports log while stopping is not news
    let timer: ReturnType<typeof setTimeout> | undefined;
    const closed = await Promise.race([
      demo.close().then(() => true),
      new Promise<false>((r) => timer = setTimeout(() => r(false), 5000)),
    ]);
    clearTimeout(timer);
    if (!closed) writeAll(Deno.stderr, "the members did not stop within 5 s; exiting anyway\n");
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
  }
  if (completed) {
    writeAll(Deno.stdout, "\n" + summary(demo).join("\n") + "\n");
    code = demo.checks().every((c) => c.ok) ? 0 : 1;
  }
  return code;
}

Deno.exit(await main());
