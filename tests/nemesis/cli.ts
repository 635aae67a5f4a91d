// The command line of `deno task nemesis` (see USAGE), parsed into options
// and written back (the outer process passes the campaign it runs inside a
// namespace the same options, with the seed and output folder resolved).

import { FAULT_KINDS, type FaultKind, parseKinds } from "./schedule.ts";
import { TARGET_NAMES, type TargetName } from "./target.ts";

/** Usage text. */
export const USAGE = `usage: deno task nemesis [flags]
  --target ours|raftexample|etcd|all   what to run against (default ours)
  --seed N              seed of the fault schedule (default: random, printed)
  --seconds S           length of the faulty part (default 60); or --minutes M
  --members N           cluster size (default 5)
  --faults k,k,...      fault kinds (default all: ${FAULT_KINDS.join(",")})
  --out DIR             where the reports go (default: a new temp dir, printed)
  --member-flags "..."  extra flags for each of our members (e.g. "--lazy-disk")
  --net auto|netns|loopback  members in network namespaces (root) or on 127.0.0.1 (default auto)
  --clients N           concurrent clients (default 4)
  --rate N              operations per second per client (default 25)
  --stale-reads         our clients read with GET ?stale (the member's own state): a
                        known-unsafe read, to see the campaign catch stale reads`;

/** Parsed options. */
export interface CliOptions {
  targets: TargetName[];
  seed?: number;
  seconds: number;
  members: number;
  kinds: FaultKind[];
  faults?: string;
  out?: string;
  memberFlags?: string;
  staleReads?: boolean;
  net: "auto" | "netns" | "loopback";
  clients: number;
  rate: number;
}

function num(name: string, raw: string | undefined, min: number, max: number): number {
  const n = Number(raw);
  if (raw === undefined || !/^\d+(\.\d+)?$/.test(raw) || n < min || n > max) {
    throw new Error(`--${name} needs a number from ${min} to ${max}, got "${raw ?? ""}"`);
  }
  return n;
}

/** Parses `argv`; throws an Error whose message says which flag is wrong. */
export function parseCli(argv: string[]): CliOptions {
  const o: CliOptions = {
    targets: ["ours"],
    seconds: 60,
    members: 5,
    kinds: [...FAULT_KINDS],
    net: "auto",
    clients: 4,
    rate: 25,
  };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(argv[i]);
    if (m === null) throw new Error(`unexpected argument "${argv[i]}"`);
    const [, name, inline] = m;
    const value = inline ?? argv[++i];
    switch (name) {
      case "target":
        if (value === "all") o.targets = [...TARGET_NAMES];
        else if ((TARGET_NAMES as readonly string[]).includes(value)) {
          o.targets = [value as TargetName];
        } else {throw new Error(
            `--target must be one of ${TARGET_NAMES.join(", ")} or all, got "${value}"`,
          );}
        break;
      case "seed":
        o.seed = num(name, value, 0, 2 ** 32 - 1);
        break;
      case "seconds":
        o.seconds = num(name, value, 5, 86_400);
        break;
      case "minutes":
        o.seconds = 60 * num(name, value, 0.1, 1440);
        break;
      case "members":
        o.members = num(name, value, 3, 9);
        break;
      case "faults":
        o.kinds = parseKinds(value ?? "");
        o.faults = value;
        break;
      case "stale-reads":
        if (inline !== undefined) throw new Error("--stale-reads takes no value");
        o.staleReads = true;
        i--; // the next argument was not its value
        break;
      case "out":
        o.out = value;
        break;
      case "member-flags":
        o.memberFlags = value;
        break;
      case "net":
        if (value !== "auto" && value !== "netns" && value !== "loopback") {
          throw new Error(`--net must be auto, netns or loopback, got "${value}"`);
        }
        o.net = value;
        break;
      case "clients":
        o.clients = num(name, value, 1, 64);
        break;
      case "rate":
        o.rate = num(name, value, 1, 1000);
        break;
      default:
        throw new Error(`unknown flag --${name}`);
    }
  }
  return o;
}

/** The command line that gives `o` back. */
export function formatCli(o: CliOptions): string[] {
  const out = [
    "--target",
    o.targets.length > 1 ? "all" : o.targets[0],
    "--seconds",
    `${o.seconds}`,
  ];
  out.push(
    "--members",
    `${o.members}`,
    "--net",
    o.net,
    "--clients",
    `${o.clients}`,
    "--rate",
    `${o.rate}`,
  );
  if (o.seed !== undefined) out.push("--seed", `${o.seed}`);
  if (o.faults !== undefined) out.push("--faults", o.faults);
  if (o.out !== undefined) out.push("--out", o.out);
  if (o.memberFlags !== undefined) out.push("--member-flags", o.memberFlags);
  if (o.staleReads) out.push("--stale-reads");
  return out;
}
