// One member's OS process for the campaign: spawned (in its network
// namespace, when there is one, through `ip netns exec`, which execs the
// member so that the child's pid is the member's own), signalled by pid,
// its output kept in a bounded ring of lines, and always ended with SIGCONT
// then SIGKILL.

/** How to start one member. */
export interface Launch {
  cmd: string;
  args: string[];
  cwd?: string;
  /** Network namespace to run in (undefined: the caller's). */
  netns?: string;
}

const MAX_LINES = 300;

/** A running (or ended) member process. */
export class MemberProcess {
  readonly pid: number;
  readonly exited: Promise<Deno.CommandStatus>;
  /** Set when the campaign ended it (SIGKILL) or asked it to end; else its exit is news. */
  expectExit = false;
  paused = false;
  #child: Deno.ChildProcess;
  #lines: string[] = [];
  #done = false;

  /** Starts `l`; `onLine` sees every line the member prints (stdout and stderr). */
  constructor(l: Launch, readonly tag: string, onLine?: (line: string) => void) {
    const [cmd, args] = l.netns === undefined
      ? [l.cmd, l.args]
      : ["ip", ["netns", "exec", l.netns, l.cmd, ...l.args]];
    this.#child = new Deno.Command(cmd, {
      args,
      cwd: l.cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.pid = this.#child.pid;
    const read = async (s: ReadableStream<Uint8Array>) => {
      let buf = "";
      for await (const text of s.pipeThrough(new TextDecoderStream())) {
        buf += text;
        const parts = buf.split("\n");
        buf = parts.pop() ?? "";
        for (const line of parts) this.#line(line, onLine);
      }
      if (buf !== "") this.#line(buf, onLine);
    };
    const drained = Promise.all([read(this.#child.stdout), read(this.#child.stderr)]);
    this.exited = Promise.all([this.#child.status, drained]).then(([s]) => {
      this.#done = true;
      return s;
    });
  }

  #line(line: string, onLine?: (line: string) => void): void {
    this.#lines.push(line);
    if (this.#lines.length > MAX_LINES) this.#lines.shift();
    onLine?.(line);
  }

  /** True until the process has exited and its output is drained. */
  get running(): boolean {
    return !this.#done;
  }

  /** Sends `signal` to the member's pid; false if it is gone. */
  signal(signal: Deno.Signal): boolean {
    if (this.#done) return false;
    try {
      Deno.kill(this.pid, signal);
      if (signal === "SIGSTOP") this.paused = true;
      if (signal === "SIGCONT") this.paused = false;
      return true;
    } catch {
      return false;
    }
  }

  /** SIGCONT (a paused process cannot die otherwise), SIGKILL, and waits for the exit. */
  async kill(): Promise<Deno.CommandStatus> {
    this.expectExit = true;
    if (this.paused) this.signal("SIGCONT");
    this.signal("SIGKILL");
    return await this.exited;
  }

  /** Waits up to `ms` for the exit; true if it exited. */
  async exitWithin(ms: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<false>((r) => timer = setTimeout(() => r(false), ms));
    try {
      return await Promise.race([this.exited.then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The last `n` lines printed. */
  tail(n = 20): string[] {
    return this.#lines.slice(-n).map((l) => `[${this.tag}] ${l}`);
  }
}
