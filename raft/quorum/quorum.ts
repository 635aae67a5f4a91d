/**
 * Majority quorum arithmetic: the committed index of a voter set and the
 * outcome of an election.
 *
 * @module
 */

/** The outcome of counting votes. */
export type VoteResult = "pending" | "lost" | "won";

/** Votes needed for a majority of `n` voters. */
export function quorumSize(n: number): number {
  return Math.floor(n / 2) + 1;
}

/**
 * The highest index that a majority of `voters` has matched, given each
 * voter's match index. 0 for an empty voter set (nothing can commit).
 */
export function committedIndex(voters: Iterable<bigint>, match: (id: bigint) => bigint): bigint {
  const matches: bigint[] = [];
  for (const id of voters) matches.push(match(id));
  if (matches.length === 0) return 0n;
  matches.sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
  return matches[quorumSize(matches.length) - 1];
}

/** Won with a majority of grants, lost once a majority is out of reach, else pending. */
export function voteResult(voters: Iterable<bigint>, votes: Map<bigint, boolean>): VoteResult {
  let granted = 0;
  let missing = 0;
  let n = 0;
  for (const id of voters) {
    n++;
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  if (n === 0) return "won";
  const q = quorumSize(n);
  if (granted >= q) return "won";
  if (granted + missing >= q) return "pending";
  return "lost";
}
