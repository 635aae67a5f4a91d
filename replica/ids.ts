/**
 * Member ids as users write them (a bigint, a number, or a decimal string,
 * as in the keys of `peers`), always a bigint inside.
 *
 * @module
 */

/**
 * A member id as accepted by the replica API.
 *
 * @example
 * ```ts
 * import type { IdLike } from "@rafthttp/rafthttp/replica";
 * const ids: IdLike[] = [1n, 2, "3"];
 * console.log(ids.length); // 3
 * ```
 */
export type IdLike = bigint | number | string;

const MAX_ID = (1n << 64n) - 1n;

/**
 * The id as a bigint; a RangeError names `what` if it is not a whole
 * number in [1, 2^64).
 *
 * @example
 * ```ts
 * import { toId } from "@rafthttp/rafthttp/replica";
 * console.log(toId("12"), toId(3), toId(4n)); // 12n 3n 4n
 * ```
 */
export function toId(value: IdLike, what = "id"): bigint {
  let id: bigint | undefined;
  if (typeof value === "bigint") id = value;
  else if (typeof value === "number" && Number.isSafeInteger(value)) id = BigInt(value);
  else if (typeof value === "string" && /^[0-9]{1,20}$/.test(value)) id = BigInt(value);
  if (id === undefined || id < 1n || id > MAX_ID) {
    throw new RangeError(
      `${what} must be a member id in [1, 2^64) (bigint, integer or decimal string), got ${
        String(value)
      }`,
    );
  }
  return id;
}
