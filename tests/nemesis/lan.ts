// The campaign's network when it runs as root: one namespace per member
// slot plus one for the clients (the campaign itself runs there), all on
// one bridge (tests/netns/netns.ts's Lan). The outer process makes the LAN
// and passes a LanView to the campaign it runs inside the clients'
// namespace; faults change routes and links in the namespaces only.

import { ip, Lan, tc } from "../netns/netns.ts";

/** Names and addresses of a LAN, as the campaign inside it needs them. */
export interface LanView {
  bridge: string;
  /** Per slot (index slot - 1): its namespace, address and bridge-side port. */
  ns: string[];
  addr: string[];
  port: string[];
  /** The clients' (and the campaign's) namespace. */
  clientNs: string;
}

/** Makes a LAN of `slots` member namespaces and one for the clients. */
export async function makeLan(slots: number): Promise<{ lan: Lan; view: LanView }> {
  const lan = await Lan.create(slots + 1);
  const idx = Array.from({ length: slots }, (_, i) => i + 1);
  return {
    lan,
    view: {
      bridge: lan.bridge,
      ns: idx.map((i) => lan.ns(i)),
      addr: idx.map((i) => lan.addr(i)),
      port: idx.map((i) => lan.port(i)),
      clientNs: lan.ns(slots + 1),
    },
  };
}

/** Drops traffic between slots `a` and `b` (both ways) or lets it pass again. */
export async function blackhole(v: LanView, a: number, b: number, on: boolean): Promise<void> {
  const verb = on ? "add" : "del";
  await ip("-n", v.ns[a - 1], "route", verb, "blackhole", `${v.addr[b - 1]}/32`);
  await ip("-n", v.ns[b - 1], "route", verb, "blackhole", `${v.addr[a - 1]}/32`);
}

/** Takes slot `s`'s link down at the bridge (nobody reaches it; no RST) or up. */
export async function link(v: LanView, s: number, up: boolean): Promise<void> {
  await ip("-n", v.bridge, "link", "set", v.port[s - 1], up ? "up" : "down");
}

/** A token-bucket link both ways on slot `s` (tc tbf; netem is not there), or none. */
export async function slowLink(v: LanView, s: number, on: boolean): Promise<void> {
  const ends: [string, string][] = [[v.ns[s - 1], "eth0"], [v.bridge, v.port[s - 1]]];
  for (const [ns, dev] of ends) {
    if (on) {
      await tc(
        ns,
        "qdisc",
        "add",
        "dev",
        dev,
        "root",
        "tbf",
        "rate",
        "256kbit",
        "burst",
        "8kb",
        "latency",
        "400ms",
      );
    } else await tc(ns, "qdisc", "del", "dev", dev, "root").catch(() => {});
  }
}

/** Pids of what still runs in the LAN's member namespaces (for the outer process's last sweep). */
export async function pidsIn(v: LanView): Promise<number[]> {
  const out: number[] = [];
  for (const ns of [...v.ns, v.clientNs]) {
    const text = await ip("netns", "pids", ns).catch(() => "");
    for (const p of text.split(/\s+/)) if (/^\d+$/.test(p)) out.push(Number(p));
  }
  return out;
}
