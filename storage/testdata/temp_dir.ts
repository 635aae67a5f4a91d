// The storage tests' temporary directory: made for one test, always removed.

/** Runs `fn` with a new temporary directory (named after `prefix`), removed afterwards. */
export async function withTempDir(prefix: string, fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
