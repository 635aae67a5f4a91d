/**
 * The simulation's state machine: the set of applied proposal ids and a
 * rolling hash of every applied entry, so that two members that applied
 * different entries at one index are told apart.
 *
 * @module
 */

import type { Entry } from "../../raftpb/mod.ts";

/** What a member applied so far. */
export interface SimState {
  /** Last applied index. */
  index: bigint;
  /** Rolling hash over all applied entries (index, term, type, data). */
  hash: number;
  /** Ids of applied client proposals. */
  ids: Set<number>;
}

/** The state before anything is applied. */
export function emptyState(): SimState {
  return { index: 0n, hash: 0x811c9dc5, ids: new Set() };
}

function mix(h: number, x: number): number {
  return Math.imul(h ^ (x & 0xff), 16777619) >>> 0;
}

function mixNumber(h: number, n: bigint): number {
  let x = Number(n & 0xffffffffn);
  for (let i = 0; i < 4; i++, x >>>= 8) h = mix(h, x);
  return h;
}

/** Applies `e`; returns the proposal id it carried, if any. */
export function applyEntry(s: SimState, e: Entry, proposalId: number | undefined): void {
  let h = mixNumber(s.hash, e.index);
  h = mixNumber(h, e.term);
  h = mix(h, e.type);
  for (const b of e.data) h = mix(h, b);
  s.hash = h;
  s.index = e.index;
  if (proposalId !== undefined) s.ids.add(proposalId);
}

/** Serializes the state into snapshot data. */
export function encodeState(s: SimState): Uint8Array {
  const json = JSON.stringify({ index: s.index.toString(), hash: s.hash, ids: [...s.ids] });
  return new TextEncoder().encode(json);
}

/** Restores a state from snapshot data (empty data: the empty state). */
export function decodeState(data: Uint8Array): SimState {
  if (data.length === 0) return emptyState();
  const o = JSON.parse(new TextDecoder().decode(data));
  return { index: BigInt(o.index), hash: o.hash, ids: new Set(o.ids) };
}
