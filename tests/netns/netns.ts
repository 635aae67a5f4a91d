// Network namespaces for tests: three members, each in a namespace of its
// own with one address, joined by veth pairs to a bridge that lives in a
// fourth namespace (nothing is added to the host's namespace). Names are
// unique per run; `await using` removes every namespace (and with them
// their links), also when the test fails.

/** Set to 1 (as CI does) to fail instead of skipping where namespaces cannot be made. */
export const REQUIRE_NETNS = Deno.env.get("RAFTHTTP_REQUIRE_NETNS") === "1";

async function run(args: string[]): Promise<{ ok: boolean; out: string }> {
  try {
    const o = await new Deno.Command(args[0], {
      args: args.slice(1),
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    const td = new TextDecoder();
    return { ok: o.success, out: td.decode(o.stdout) + td.decode(o.stderr) };
  } catch (e) {
    return { ok: false, out: String(e) };
  }
}

/** Runs `ip ...`; throws with its output when it fails. */
export async function ip(...args: string[]): Promise<string> {
  const r = await run(["ip", ...args]);
  if (!r.ok) throw new Error(`ip ${args.join(" ")} failed: ${r.out.trim()}`);
  return r.out;
}

/** Runs `tc ...` in namespace `ns`; throws with its output when it fails. */
export async function tc(ns: string, ...args: string[]): Promise<string> {
  const r = await run(["ip", "netns", "exec", ns, "tc", ...args]);
  if (!r.ok) throw new Error(`tc ${args.join(" ")} in ${ns} failed: ${r.out.trim()}`);
  return r.out;
}

/** Why namespaces cannot be made here, or undefined when they can. */
async function probe(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return "not Linux";
  const name = `rhprobe-${crypto.randomUUID().slice(0, 8)}`;
  const r = await run(["ip", "netns", "add", name]);
  if (!r.ok) {
    return `cannot create a network namespace (${r.out.trim() || "ip failed"}; needs root)`;
  }
  await run(["ip", "netns", "del", name]);
  return undefined;
}

/** Why the netns tests cannot run here (undefined: they can). */
export const NETNS_MISSING = await probe();

let skipNoted = false;

/** Registers a netns test: skipped with a note where namespaces cannot be made, unless required. */
export function netnsTest(name: string, fn: () => Promise<void>): void {
  if (NETNS_MISSING !== undefined && !REQUIRE_NETNS && !skipNoted) {
    skipNoted = true;
    console.warn(
      `netns: ${NETNS_MISSING}; the network-namespace tests are skipped ` +
        `(run as root; set RAFTHTTP_REQUIRE_NETNS=1 to make this a failure)`,
    );
  }
  Deno.test({
    name: `netns: ${name}`,
    ignore: NETNS_MISSING !== undefined && !REQUIRE_NETNS,
    async fn() {
      if (NETNS_MISSING !== undefined) {
        throw new Error(`RAFTHTTP_REQUIRE_NETNS=1 but ${NETNS_MISSING}`);
      }
      await fn();
    },
  });
}

/** Three (or n) member namespaces on one bridge. */
export class Lan implements AsyncDisposable {
  readonly prefix: string;
  readonly bridge: string;
  readonly members: string[];
  readonly subnet: string;

  private constructor(prefix: string, n: number, subnet: string) {
    this.prefix = prefix;
    this.bridge = `${prefix}-br`;
    this.members = Array.from({ length: n }, (_, i) => `${prefix}-m${i + 1}`);
    this.subnet = subnet;
  }

  /** The address of member `i` (1-based). */
  addr(i: number): string {
    return `${this.subnet}.${i}`;
  }

  /** The namespace of member `i` (1-based). */
  ns(i: number): string {
    return this.members[i - 1];
  }

  /** The bridge-side end of member `i`'s veth pair: `ip link set ... down` cuts it off. */
  port(i: number): string {
    return `b${i}`;
  }

  /** Creates the namespaces, the bridge and the links; on failure removes what was made. */
  static async create(n = 3): Promise<Lan> {
    const prefix = `rh${crypto.randomUUID().slice(0, 6)}`;
    const lan = new Lan(prefix, n, "10.213.0");
    try {
      await ip("netns", "add", lan.bridge);
      await ip("-n", lan.bridge, "link", "add", "br0", "type", "bridge");
      await ip("-n", lan.bridge, "link", "set", "br0", "up");
      for (let i = 1; i <= n; i++) {
        const ns = lan.ns(i);
        await ip("netns", "add", ns);
        await ip(
          "-n",
          lan.bridge,
          "link",
          "add",
          lan.port(i),
          "type",
          "veth",
          "peer",
          "name",
          "eth0",
          "netns",
          ns,
        );
        await ip("-n", lan.bridge, "link", "set", lan.port(i), "master", "br0");
        await ip("-n", lan.bridge, "link", "set", lan.port(i), "up");
        await ip("-n", ns, "addr", "add", `${lan.addr(i)}/24`, "dev", "eth0");
        await ip("-n", ns, "link", "set", "eth0", "up");
        await ip("-n", ns, "link", "set", "lo", "up");
      }
    } catch (e) {
      await lan.remove();
      throw e;
    }
    return lan;
  }

  /** Takes member `i`'s link down at the bridge (no RST: packets just vanish) or up again. */
  async link(i: number, up: boolean): Promise<void> {
    await ip("-n", this.bridge, "link", "set", this.port(i), up ? "up" : "down");
  }

  /** Removes every namespace this LAN made (their links go with them). */
  async remove(): Promise<void> {
    for (const ns of [...this.members, this.bridge]) {
      await run(["ip", "netns", "del", ns]);
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.remove();
  }
}
