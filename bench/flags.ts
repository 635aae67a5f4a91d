/**
 * The flags of the KV benchmarks (kv-compare, kv-trace): `--flag value` or
 * `--flag=value`, integers within a range, each error naming its flag.
 *
 * @module
 */

/** Makes the benchmark's own error (its type says "bad command line"). */
export type FlagErrorOf = (message: string) => Error;

/**
 * Walks `argv`, giving each flag's name and a getter of its value to `take`,
 * which returns false for a flag it does not know (an error naming `usage`).
 */
export function walkFlags(
  argv: string[],
  take: (flag: string, value: () => string) => boolean,
  fail: FlagErrorOf,
  usage: string,
): void {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    const flag = m?.[1] ?? arg;
    const value = () => {
      const v = m?.[2] ?? argv[++i];
      if (v === undefined || v === "") throw fail(`--${flag} needs a value`);
      return v;
    };
    if (m === null || !take(flag, value)) throw fail(`unknown flag ${arg}; ${usage}`);
  }
}

/** `raw` as an integer from `min` to `max`, or an error naming `--flag`. */
export function intFlag(flag: string, raw: string, min: number, max: number, fail: FlagErrorOf) {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) {
    throw fail(`--${flag} takes an integer from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}
