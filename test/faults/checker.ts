// Compares the states the replicas hold with the writers' own logs of what
// they issued and what was acknowledged (test/fixtures/nemesis-worker.mjs),
// independently of the library: every acknowledged update must be applied
// exactly once; an update issued but never acknowledged may be present
// once or not at all.
//
// In the add group every update adds 2^32 + v (v a signed increment), so a
// context's high half counts the updates applied to it and its low half
// sums their increments: a missing acknowledged update and one applied
// twice are counted exactly. In the xor group an update applied twice
// cancels out like a lost one; they are counted together as lost.
import { readFileSync } from 'node:fs';
import { COUNT_UNIT, nemesisUpdate } from '../fixtures/nemesis-worker.mjs';

/** One writer process's run (a restart is a new run with its own seed and log). */
export interface WriterRun {
  label: string;
  seed: number;
  /** Updates 0..issued-1 were (or may have been) applied. */
  issued: number;
  /** Updates 0..acked-1 were acknowledged: a flush() called after them resolved. */
  acked: number;
}

export interface CheckInput {
  group: 'add' | 'xor';
  size: number;
  runs: WriterRun[];
  /** The states every replica ended with (a fresh reader among them), by label. */
  replicas: { label: string; states: bigint[] }[];
}

export interface ReplicaVerdict {
  label: string;
  lost: number;
  doubled: number;
  /** Contexts whose state no subset of the issued but unacknowledged updates explains. */
  unexplained: number;
  /** Contexts that differ from each other replica, by label. */
  differsFrom: Record<string, number>;
}

export interface CheckResult {
  acknowledged: number;
  issued: number;
  replicas: ReplicaVerdict[];
  /** Sum over the replicas. */
  lost: number;
  doubled: number;
  unexplained: number;
  /** Every replica holds the same states. */
  agree: boolean;
}

/** Reads a worker's log: the highest issued and acked counts it recorded (a line cut by kill -9 is ignored). */
export function readRunLog(path: string): { issued: number; acked: number } {
  let issued = 0;
  let acked = 0;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.endsWith('}')) continue;
    const o = JSON.parse(line) as { issued?: number; acked?: number };
    if (o.issued !== undefined) issued = Math.max(issued, o.issued);
    if (o.acked !== undefined) acked = Math.max(acked, o.acked);
  }
  return { issued, acked };
}

/** Sets of (count, sum) an add context can gain from any subset of its candidates; null when too many to list. */
function reachableAdd(cands: bigint[]): Set<string> | null {
  if (cands.length > 24) return null;
  let set = new Map<string, [number, bigint]>([['0:0', [0, 0n]]]);
  for (const d of cands) {
    const v = BigInt.asIntN(64, d - COUNT_UNIT);
    const next = new Map(set);
    for (const [n, s] of set.values()) next.set(`${n + 1}:${s + v}`, [n + 1, s + v]);
    set = next;
  }
  return new Set(set.keys());
}

function reachableXor(cands: bigint[]): Set<bigint> | null {
  if (cands.length > 16) return null;
  let set = new Set<bigint>([0n]);
  for (const d of cands) set = new Set([...set, ...[...set].map((x) => x ^ d)]);
  return set;
}

/** (count, signed sum) of an add context's state. */
function split(state: bigint): [number, bigint] {
  const n = BigInt.asUintN(64, state + (1n << 31n)) >> 32n;
  return [Number(n), BigInt.asIntN(64, state - n * COUNT_UNIT)];
}

export function check(input: CheckInput): CheckResult {
  const { group, size } = input;
  const add = group === 'add';
  // What is certain (acknowledged) and what is possible (issued, not acknowledged), per context.
  const ackedCount = new Array<number>(size).fill(0);
  const ackedSum = new Array<bigint>(size).fill(0n);
  const ackedDeltas: bigint[][] = Array.from({ length: size }, () => []);
  const maybe: bigint[][] = Array.from({ length: size }, () => []);
  let acknowledged = 0;
  let issued = 0;
  for (const run of input.runs) {
    acknowledged += run.acked;
    issued += run.issued;
    for (let j = 0; j < run.issued; j++) {
      const [i, d] = nemesisUpdate(group, run.seed, j, size);
      if (j >= run.acked) maybe[i]!.push(d);
      else if (add) {
        ackedCount[i]!++;
        ackedSum[i] = ackedSum[i]! + BigInt.asIntN(64, d - COUNT_UNIT);
      } else {
        ackedSum[i] = ackedSum[i]! ^ d;
        ackedDeltas[i]!.push(d);
      }
    }
  }
  const reach = maybe.map((c) => (add ? reachableAdd(c) : reachableXor(c)));

  const verdicts: ReplicaVerdict[] = input.replicas.map(({ label, states }) => {
    let lost = 0;
    let doubled = 0;
    let unexplained = 0;
    for (let i = 0; i < size; i++) {
      const state = states[i]!;
      const r = reach[i]!;
      if (add) {
        const [n, s] = split(state);
        const dn = n - ackedCount[i]!;
        const ds = s - ackedSum[i]!;
        const explained = r === null ? dn >= 0 && dn <= maybe[i]!.length : (r as Set<string>).has(`${dn}:${ds}`);
        if (explained) continue;
        unexplained++;
        if (dn < 0) lost += -dn;
        else if (dn > maybe[i]!.length) doubled += dn - maybe[i]!.length;
      } else {
        const rest = state ^ ackedSum[i]!;
        const set = r as Set<bigint> | null;
        if (set === null || set.has(rest)) continue;
        unexplained++;
        // One acknowledged update missing (or applied twice) explains it?
        if (ackedDeltas[i]!.some((d) => set.has(rest ^ d))) lost++;
      }
    }
    return { label, lost, doubled, unexplained, differsFrom: {} };
  });
  let agree = true;
  for (const a of input.replicas) {
    const v = verdicts.find((x) => x.label === a.label)!;
    for (const b of input.replicas) {
      if (a === b) continue;
      let diff = 0;
      for (let i = 0; i < size; i++) if (a.states[i] !== b.states[i]) diff++;
      v.differsFrom[b.label] = diff;
      if (diff > 0) agree = false;
    }
  }
  const total = (k: 'lost' | 'doubled' | 'unexplained') => verdicts.reduce((s, v) => s + v[k], 0);
  return { acknowledged, issued, replicas: verdicts, lost: total('lost'), doubled: total('doubled'), unexplained: total('unexplained'), agree };
}
