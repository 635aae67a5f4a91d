import { assertEquals } from "@std/assert";
import { jointCommittedIndex, jointVoteResult, type VoteResult } from "./quorum.ts";

const set = (...ids: number[]) => new Set(ids.map(BigInt));

Deno.test("quorum: a joint commit index is the smaller of the two majorities' indexes", () => {
  const match = new Map([[1n, 10n], [2n, 8n], [3n, 3n], [4n, 9n], [5n, 2n]]);
  const m = (id: bigint) => match.get(id) ?? 0n;
  const cases: [Set<bigint>, Set<bigint>, bigint][] = [
    [set(1, 2, 3), set(), 8n], // not joint: the outgoing side is ignored
    [set(1, 4, 5), set(1, 2, 3), 8n], // incoming 9, outgoing 8
    [set(3, 4, 5), set(1, 2, 3), 3n], // incoming 3, outgoing 8
    [set(1, 2), set(1, 2, 3), 8n], // an even incoming side needs both
    [set(1), set(3, 5), 2n],
    [set(), set(1, 2, 3), 8n], // only the outgoing side is left
    [set(), set(), 0n], // no voters: nothing commits
    [set(1, 9), set(1, 2, 3), 0n], // 9 has no progress: its match counts as 0
  ];
  for (const [incoming, outgoing, want] of cases) {
    assertEquals(
      jointCommittedIndex(incoming, outgoing, m),
      want,
      `${[...incoming]}&&${[...outgoing]}`,
    );
  }
});

Deno.test("quorum: a joint vote needs both majorities; either one lost loses it", () => {
  const votes = (granted: number[], rejected: number[] = []) =>
    new Map([
      ...granted.map((id) => [BigInt(id), true] as const),
      ...rejected.map((id) => [BigInt(id), false] as const),
    ]);
  const cases: [Set<bigint>, Set<bigint>, Map<bigint, boolean>, VoteResult][] = [
    [set(1, 2, 3), set(), votes([1, 2]), "won"],
    [set(1, 4, 5), set(1, 2, 3), votes([1, 4]), "pending"], // incoming won, outgoing pending
    [set(1, 4, 5), set(1, 2, 3), votes([1, 4, 2]), "won"],
    [set(1, 4, 5), set(1, 2, 3), votes([1, 2, 3], [4, 5]), "lost"], // incoming lost
    [set(1, 4, 5), set(1, 2, 3), votes([1, 4, 5], [2, 3]), "lost"], // outgoing lost
    [set(1, 4, 5), set(1, 2, 3), votes([1], [2]), "pending"],
    [set(1, 4, 5), set(1, 2, 3), votes([], []), "pending"],
    [set(), set(), votes([]), "won"],
  ];
  for (const [incoming, outgoing, v, want] of cases) {
    assertEquals(
      jointVoteResult(incoming, outgoing, v),
      want,
      `${[...incoming]}&&${[...outgoing]} ${[...v]}`,
    );
  }
});
