// The link estimator (lib/serial/link.ts) on its own: the retransmission
// timeout it derives from how late replies come, and the damage rate and
// frame size it derives from which frames crossed the line whole.
import { describe, expect, it } from 'vitest';
import { LinkEstimator, MIN_SLACK_MS } from '../../lib/serial/link.js';
import { lcg } from '../helpers/values.js';

/** Payload bytes a frame carries at best, and the goodput of `n` useful bytes at damage rate `p` per byte. */
const FRAME_COST = 22;
const goodput = (n: number, p: number) => (n / (n + FRAME_COST)) * Math.exp(-p * (n + FRAME_COST));

/** An estimator that saw `frames` frames of `bytes` each, every `period`-th one lost (0: none lost). */
function line(frames: number, bytes: number, period: number): LinkEstimator {
  const link = new LinkEstimator(300, 1000);
  for (let k = 1; k <= frames; k++) link.outcome(bytes, period === 0 || k % period !== 0);
  return link;
}

describe('retransmission timeout', () => {
  it('before any reply: the initial slack, doubling per attempt up to the ceiling', () => {
    const link = new LinkEstimator(300, 1000);
    expect([1, 2, 3, 4, 40].map((a) => link.slackMs(a))).toEqual([300, 600, 1000, 1000, 1000]);
    expect(link.minRttMs).toBe(Infinity);
  });

  it('the first reply sets the lateness and half of it as deviation; later ones are smoothed by 1/8 and 1/4', () => {
    const link = new LinkEstimator(300, 1000);
    link.sample(10, 50);
    expect(link.slackMs(1)).toBe(30); // 10 + 4 * 5
    expect(link.slackMs(2)).toBe(60);
    link.sample(-5, null); // early replies count as on time; a resent frame's round trip is unknown
    expect(link.slackMs(1)).toBe(8.75 + 4 * 6.25);
    expect(link.minRttMs).toBe(50);
    link.sample(2, 20);
    expect(link.minRttMs).toBe(20);
  });

  it('a line whose replies are never late still waits MIN_SLACK_MS beyond line time', () => {
    const link = new LinkEstimator(300, 1000);
    for (let k = 0; k < 300; k++) link.sample(0, 1);
    expect(link.slackMs(1)).toBe(MIN_SLACK_MS);
    expect(link.slackMs(3)).toBe(4 * MIN_SLACK_MS);
  });

  it('jittery replies widen the timeout beyond their mean', () => {
    const steady = new LinkEstimator(300, 1000);
    const jittery = new LinkEstimator(300, 1000);
    const { int } = lcg(3);
    for (let k = 0; k < 500; k++) {
      steady.sample(20, null);
      jittery.sample(int(41), null); // 0..40, mean 20
    }
    expect(steady.slackMs(1)).toBeCloseTo(20, 6);
    expect(jittery.slackMs(1)).toBeGreaterThan(40);
    expect(jittery.slackMs(1)).toBeLessThan(90);
  });
});

describe('damage rate and frame size', () => {
  it('a clean line: no damage measured, frames as large as allowed', () => {
    const link = line(1000, 200, 0);
    expect(link.errorRate).toBe(0);
    expect(link.frameBudget(4608)).toBe(4608);
  });

  it('one frame of 100 bytes in ten lost: -ln(0.9)/100 damaged bytes per byte, within the 200-frame memory', () => {
    const expected = -Math.log(0.9) / 100;
    for (const frames of [5000, 5003, 5009]) {
      const rate = line(frames, 100, 10).errorRate;
      expect(Math.abs(rate / expected - 1)).toBeLessThan(0.03);
    }
  });

  it('forgets: a line that turned clean is measured clean again after a few hundred frames', () => {
    const link = line(3000, 100, 4);
    const damaged = link.errorRate;
    for (let k = 0; k < 2000; k++) link.outcome(100, true);
    expect(link.errorRate).toBeLessThan(damaged / 1000);
  });

  it('a line that loses every frame gives a finite rate: the share of lost frames is capped at 0.95', () => {
    const link = line(6000, 100, 1);
    expect(link.errorRate).toBeCloseTo(-Math.log(0.05) / 100, 6);
    expect(link.frameBudget(4608)).toBeGreaterThanOrEqual(1);
  });

  it('a loss found to be only slow (spurious) is taken back exactly', () => {
    const taken = new LinkEstimator(300, 1000);
    const clean = new LinkEstimator(300, 1000);
    taken.outcome(120, false);
    taken.spurious();
    clean.outcome(120, true);
    expect(taken.errorRate).toBe(clean.errorRate);
    const fresh = new LinkEstimator(300, 1000);
    fresh.spurious(); // nothing to take back: never below zero
    expect(fresh.errorRate).toBe(0);
  });

  it('the frame size is the payload that carries the most per line byte at the measured rate, never above the maximum', () => {
    for (const period of [2, 3, 5, 10, 50, 200]) {
      const link = line(4000, 150, period);
      const p = link.errorRate;
      const n = link.frameBudget(100_000);
      expect(n).toBeGreaterThan(0);
      // n is the optimum rounded down: it or n + 1 carries the most, and the goodput falls off on either side.
      const best = Math.max(goodput(n, p), goodput(n + 1, p));
      for (const other of [n - 10, n - 1, n + 2, n + 10, n * 2, Math.ceil(n / 2)]) {
        if (other > 0) expect(best).toBeGreaterThan(goodput(other, p));
      }
      expect(goodput(n, p)).toBeGreaterThan(goodput(n - 1, p));
      expect(link.frameBudget(Math.floor(n / 2))).toBe(Math.floor(n / 2));
    }
  });

  it('about 50 payload bytes a frame when 0.6% of bytes are damaged', () => {
    // A frame of 100 bytes is whole with probability e^(-0.6): lose about 45 of every 100.
    const link = new LinkEstimator(300, 1000);
    const { unit } = lcg(11);
    for (let k = 0; k < 20_000; k++) link.outcome(100, unit() >= 1 - Math.exp(-0.6));
    expect(Math.abs(link.errorRate / 0.006 - 1)).toBeLessThan(0.15);
    expect(link.frameBudget(4608)).toBeGreaterThanOrEqual(44);
    expect(link.frameBudget(4608)).toBeLessThanOrEqual(58);
  });
});
