// Short builders of history operations for the checkers' tests.

import type { Operation } from "./operation.ts";

/** A put of `value` to `key`, called at `call`, answered at `ret` (undefined: no answer). */
export const put = (
  client: number,
  key: string,
  value: string,
  call: number,
  ret?: number,
): Operation => ({ client, input: { op: "put", key, value }, call, return: ret });

/** A get of `key` that read `output` (undefined: not found), answered at `ret`. */
export const get = (
  client: number,
  key: string,
  output: string | undefined,
  call: number,
  ret?: number,
): Operation => ({ client, input: { op: "get", key }, call, return: ret, output });
