// The checker must be able to fail: states computed here with an update
// missing or applied twice are reported exactly, and replica processes with
// a bug planted in the worker (never in the library) are caught through
// the whole runner: a flush logged as acknowledged before it was called,
// and every update applied twice while logged once.
import { describe, expect, it } from 'vitest';
import { nemesisUpdate } from '../fixtures/nemesis-worker.mjs';
import { redisSkipReason } from '../helpers/redis.js';
import { describeUnless } from '../helpers/skip.js';
import { check, type WriterRun } from './checker.js';
import { Violation } from './known-failures.js';
import { expectExactlyOnce, formatResult, runScenario, type Scenario } from './nemesis.js';

const SIZE = 64;

/** States holding updates 0..count-1 of each run, plus `extra` applications of chosen updates. */
function statesOf(group: 'add' | 'xor', runs: [number, number][], extra: [number, number, number][] = []): bigint[] {
  const out = new Array<bigint>(SIZE).fill(0n);
  const apply = (seed: number, j: number, times: number) => {
    const [i, d] = nemesisUpdate(group, seed, j, SIZE);
    for (let t = 0; t < times; t++) out[i] = group === 'add' ? BigInt.asUintN(64, out[i]! + d) : out[i]! ^ d;
  };
  for (const [seed, count] of runs) for (let j = 0; j < count; j++) apply(seed, j, 1);
  for (const [seed, j, times] of extra) apply(seed, j, times);
  return out;
}

const run = (seed: number, issued: number, acked: number): WriterRun => ({ label: `w${seed}`, seed, issued, acked });

describe('the checker, on states computed here', () => {
  it('exact states: nothing lost, doubled or unexplained, every replica agrees', () => {
    for (const group of ['add', 'xor'] as const) {
      const states = statesOf(group, [
        [1, 500],
        [2, 300],
      ]);
      const r = check({ group, size: SIZE, runs: [run(1, 500, 500), run(2, 300, 300)], replicas: [{ label: 'a', states }] });
      expect([r.acknowledged, r.lost, r.doubled, r.unexplained, r.agree]).toEqual([800, 0, 0, 0, true]);
    }
  });

  it('updates issued but not acknowledged may be present or not', () => {
    const runs = [run(1, 120, 100)];
    const without = statesOf('add', [[1, 100]]);
    const some = statesOf(
      'add',
      [[1, 100]],
      [
        [1, 103, 1],
        [1, 117, 1],
      ],
    );
    const r = check({
      group: 'add',
      size: SIZE,
      runs,
      replicas: [
        { label: 'without', states: without },
        { label: 'some', states: some },
      ],
    });
    expect(r.replicas.map((v) => [v.lost, v.doubled, v.unexplained])).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(r.agree).toBe(false);
    expect(r.replicas[0]!.differsFrom).toEqual({ some: 2 });
  });

  it('add group: counts every acknowledged update lost and every one applied twice, exactly', () => {
    const runs = [run(1, 400, 400)];
    // Updates 0..396 only: 3 lost (on at most 3 contexts); update 5 applied 3 times: 2 doubled.
    const states = statesOf('add', [[1, 397]], [[1, 5, 2]]);
    const r = check({ group: 'add', size: SIZE, runs, replicas: [{ label: 'a', states }] });
    expect([r.lost, r.doubled]).toEqual([3, 2]);
    const contexts = new Set([397, 398, 399, 5].map((j) => nemesisUpdate('add', 1, j, SIZE)[0]));
    expect(r.unexplained).toBe(contexts.size);
  });

  it('add group: an unacknowledged update applied twice is doubled; a state no update explains is unexplained', () => {
    // Update 104 is the only one of 100..109 on its context.
    expect([100, 101, 102, 103, 105, 106, 107, 108, 109].filter((j) => nemesisUpdate('add', 1, j, SIZE)[0] === nemesisUpdate('add', 1, 104, SIZE)[0])).toEqual(
      [],
    );
    const twice = statesOf('add', [[1, 100]], [[1, 104, 2]]);
    const odd = statesOf('add', [[1, 100]]);
    odd[7] = odd[7]! + 1n; // one more in the low half: no update adds exactly that
    const r = check({
      group: 'add',
      size: SIZE,
      runs: [run(1, 110, 100)],
      replicas: [
        { label: 'twice', states: twice },
        { label: 'odd', states: odd },
      ],
    });
    expect(r.replicas.map((v) => [v.label, v.lost, v.doubled, v.unexplained])).toEqual([
      ['twice', 0, 1, 1],
      ['odd', 0, 0, 1],
    ]);
  });

  it('xor group: a missing acknowledged update is reported (an update applied twice looks the same)', () => {
    const missing = statesOf('xor', [[1, 199]]);
    const twice = statesOf('xor', [[1, 200]], [[1, 50, 1]]);
    const r = check({
      group: 'xor',
      size: SIZE,
      runs: [run(1, 200, 200)],
      replicas: [
        { label: 'missing', states: missing },
        { label: 'twice', states: twice },
      ],
    });
    expect(r.replicas.map((v) => [v.lost, v.unexplained])).toEqual([
      [1, 1],
      [1, 1],
    ]);
  });
});

const skip = redisSkipReason();

/** One planted writer; it runs alone so every figure is known in advance. */
function planted(key: string, plant: 'ack-early' | 'apply-twice'): Scenario {
  return {
    key,
    title: `planted bug: ${plant}`,
    group: 'add',
    size: SIZE,
    async script(ctx) {
      if (plant === 'ack-early') {
        // Its flushes are logged as acknowledged before they are called, and
        // nothing reaches Redis before it is killed.
        const p = await ctx.proxy();
        const w = await ctx.spawn('planted', { proxy: p, plant });
        p.pause();
        await w.call('write', { count: 500, flushEvery: 100, wait: true });
        await w.call('stop');
        await w.kill();
        // Its held commands die with its connections, before the proxy lets traffic through again.
        while (p.open > 0) await ctx.sleep(10);
      } else {
        const w = await ctx.spawn('planted', { plant });
        await w.call('write', { count: 300, flushEvery: 100, wait: true });
        await w.call('stop');
      }
    },
  };
}

describeUnless(skip, 'the checker, on replica processes with a planted bug', () => {
  it('a flush() that resolves early (logged before it is called) and a kill -9: the acknowledged updates are lost', async () => {
    const r = await runScenario(planted('planted-ack-early', 'ack-early'), 'small');
    console.log(formatResult(r));
    expect([r.acknowledged, r.issued]).toEqual([500, 500]);
    expect(r.replicas.map((v) => [v.label, v.lost, v.doubled])).toEqual([['fresh-reader', 500, 0]]);
    expect(() => expectExactlyOnce(r)).toThrow(Violation);
    expect(() => expectExactlyOnce(r)).toThrow('500 acknowledged updates lost');
  }, 60_000);

  it('every update applied twice and logged once: each is doubled in the writer and in a fresh reader', async () => {
    const r = await runScenario(planted('planted-apply-twice', 'apply-twice'), 'small');
    console.log(formatResult(r));
    expect([r.acknowledged, r.issued]).toEqual([300, 300]);
    expect(r.replicas.map((v) => [v.label, v.lost, v.doubled])).toEqual([
      ['planted', 0, 300],
      ['fresh-reader', 0, 300],
    ]);
    expect(r.agree).toBe(true);
    expect(() => expectExactlyOnce(r)).toThrow('600 doubled');
  }, 60_000);
});
