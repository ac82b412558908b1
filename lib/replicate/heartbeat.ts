// A replica's heartbeat: every second it writes what it has applied (its
// position per partition) and its counters under its origin, so that an
// operator can see every live replica and its lag (atomik-node inspect).
// Heartbeats silent for an hour are removed by the next replica to start.
import type { ReplicaStats } from './options.js';

export const HEARTBEAT_MS = 1000;
const FORGET_MS = 3_600_000;

export interface Heartbeat {
  /** Date.now() when it was written. */
  at: number;
  /** The replica's log position per partition. */
  positions: string[];
  /** Entries published and not acknowledged yet. */
  unacknowledged: number;
  health: string;
  stats: ReplicaStats;
}

/** Parses a stored heartbeat; null when it is not one. */
export function parseHeartbeat(text: string): Heartbeat | null {
  try {
    const value = JSON.parse(text) as Heartbeat;
    if (typeof value.at !== 'number' || !Array.isArray(value.positions) || typeof value.stats !== 'object') return null;
    return value;
  } catch {
    return null;
  }
}

/** The origins whose heartbeats are too old (or unreadable) to keep. */
export function staleHeartbeats(all: Record<string, string>, now: number): string[] {
  return Object.entries(all)
    .filter(([, text]) => {
      const beat = parseHeartbeat(text);
      return beat === null || now - beat.at > FORGET_MS;
    })
    .map(([origin]) => origin);
}
