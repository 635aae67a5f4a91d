/**
 * EtcdHub: builds and drives tests/raft/etcd_hub.go, a process running
 * etcd 3.4's own raft for some members of a test cluster.
 *
 * @module
 */

import { decodeMessage, encodeMessage, type Message } from "../../mod.ts";

const GOPATH_ROOT = "/usr/share/gocode";
const ETCD_RAFT = `${GOPATH_ROOT}/src/go.etcd.io/etcd/raft`;

/** True if Go and etcd's raft sources are installed (else the interop test is skipped). */
export function haveGoAndEtcd(): boolean {
  try {
    Deno.statSync(ETCD_RAFT);
    return new Deno.Command("go", { args: ["version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** Builds the hub into `dir`; returns the binary's path. */
export async function buildHub(dir: string): Promise<string> {
  const bin = `${dir}/etcd_hub`;
  const src = new URL("./etcd_hub.go", import.meta.url).pathname;
  const gopath = await Deno.makeTempDir({ dir });
  const out = await new Deno.Command("go", {
    args: ["build", "-o", bin, src],
    env: { GO111MODULE: "off", GOPATH: `${gopath}:${GOPATH_ROOT}` },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`go build of the etcd hub failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return bin;
}

const toB64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
const fromB64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

/** What one round trip with the hub returned. */
export interface HubReply {
  /** Messages from the hub's members to members outside it. */
  messages: Message[];
  /** Every other line ("applied 1 5 data", "readstate 2 9 ctx", "status ...", "error ..."). */
  lines: string[];
}

/** A running hub process. */
export class EtcdHub {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buf = "";

  /** Starts the hub binary for `ids`. */
  constructor(bin: string, ids: bigint[]) {
    this.#child = new Deno.Command(bin, {
      args: ids.map(String),
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#reader = this.#child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** Sends `messages` and `commands`, waits for the hub to settle, returns its output. */
  async round(messages: Message[], commands: string[]): Promise<HubReply> {
    const lines = messages.map((m) => `msg ${toB64(encodeMessage(m))}`).concat(commands, "end");
    await this.#writer.write(new TextEncoder().encode(lines.join("\n") + "\n"));
    const reply: HubReply = { messages: [], lines: [] };
    for (let line = await this.#readLine(); line !== "end"; line = await this.#readLine()) {
      if (line.startsWith("msg ")) reply.messages.push(decodeMessage(fromB64(line.slice(4))));
      else reply.lines.push(line);
    }
    return reply;
  }

  async #readLine(): Promise<string> {
    for (;;) {
      const i = this.#buf.indexOf("\n");
      if (i >= 0) {
        const line = this.#buf.slice(0, i);
        this.#buf = this.#buf.slice(i + 1);
        return line;
      }
      const { value, done } = await this.#reader.read();
      if (done) throw new Error("the etcd hub exited; run it by hand to see why");
      this.#buf += value;
    }
  }

  /** Ends the hub and waits for it. */
  async close(): Promise<void> {
    await this.#writer.close();
    while (!(await this.#reader.read()).done) {
      // drain
    }
    await this.#child.status;
  }
}
