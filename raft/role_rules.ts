/**
 * The rules of each role, gathered for the core: whoever builds a
 * `RaftCore` passes {@link roleRules}. Kept apart from raft_core.ts so that
 * the rule files import the core and the core imports none of them.
 *
 * @module
 */

import { campaign, handleVoteRequest, hup, stepTerm } from "./election.ts";
import { maybeSendAppend } from "./leader_replication.ts";
import type { RoleRules } from "./raft_core.ts";
import { stepLeader } from "./step_leader.ts";
import { stepCandidate, stepFollower } from "./step_follower.ts";

/** etcd raft's rules: elections, each role's step, and the leader's appends. */
export const roleRules: RoleRules = {
  stepTerm,
  hup,
  handleVoteRequest,
  campaign,
  stepLeader,
  stepFollower,
  stepCandidate,
  maybeSendAppend,
};
