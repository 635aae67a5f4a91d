/**
 * Quorum arithmetic: the committed index of a voter set and the outcome of
 * an election, for one majority and for a joint configuration (Raft thesis
 * §4.3: while a configuration change is in flight, every decision needs a
 * majority of the incoming voters and a majority of the outgoing ones).
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

/**
 * The committed index of a joint configuration: the smaller of the two
 * majorities' indexes. An empty outgoing set is ignored (the configuration
 * is not joint); an empty incoming set beside a non-empty outgoing one
 * leaves the decision to the outgoing set. Two empty sets commit nothing.
 */
export function jointCommittedIndex(
  incoming: ReadonlySet<bigint>,
  outgoing: ReadonlySet<bigint>,
  match: (id: bigint) => bigint,
): bigint {
  if (outgoing.size === 0) return committedIndex(incoming, match);
  if (incoming.size === 0) return committedIndex(outgoing, match);
  const a = committedIndex(incoming, match);
  const b = committedIndex(outgoing, match);
  return a < b ? a : b;
}

/**
 * The outcome of a vote in a joint configuration: both majorities must
 * grant it; either one lost loses it; otherwise it is pending. An empty
 * set counts as won, so an empty outgoing set is ignored.
 */
export function jointVoteResult(
  incoming: ReadonlySet<bigint>,
  outgoing: ReadonlySet<bigint>,
  votes: Map<bigint, boolean>,
): VoteResult {
  const a = voteResult(incoming, votes);
  const b = voteResult(outgoing, votes);
  if (a === b) return a;
  if (a === "lost" || b === "lost") return "lost";
  return "pending";
}
