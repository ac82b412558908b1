// Synthesis smoke test: the board design goes through yosys (GW1N-9C and
// iCE40) and nextpnr-ice40 (HX8K, UP5K), and fails when it grows past the
// official design or misses its clock target: smaller than the official
// design's 579 LUT / 537 FF (Gowin EDA, published) and 678 LUT4 + 132 ALU
// (its RTL through yosys), Fmax >= 100 MHz on iCE40 HX8K. Every build
// also fails on a latch or a net with two drivers (yosys select/check -assert).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OFFICIAL, buildTarget, placeAndRouteFigures } from '../../firmware/rtl/synth/fpga.mjs';
import { missing } from '../helpers/tools.js';
import { describeUnless } from '../helpers/skip.js';

const noTools = missing('yosys', 'nextpnr-ice40', 'icepack');
const out = mkdtempSync(join(tmpdir(), 'atomik-fpga-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describeUnless(noTools, 'FPGA builds with open tools', () => {
  it('GW1N-9C (Tang Nano 9K): smaller than the official design, no latches', () => {
    const r = buildTarget('gw1n-9c', out);
    const { lut4, alu = 0, ff } = r.synth;
    expect(lut4 + alu).toBeLessThan(OFFICIAL.published.lut);
    expect(ff).toBeLessThan(OFFICIAL.published.ff);
    expect(lut4).toBeLessThan(OFFICIAL.openTools.lut4);
    expect(alu).toBeLessThan(OFFICIAL.openTools.alu);
    expect(r.share.logic).toBeLessThanOrEqual(25);
  }, 60_000);

  it('iCE40 HX8K: placed and routed at >= 100 MHz, no latches', () => {
    const r = buildTarget('ice40-hx8k', out);
    expect(r.synth.ff).toBeLessThan(OFFICIAL.published.ff);
    expect(r.pnr!.fmaxMHz).toBeGreaterThanOrEqual(100);
    expect(r.pnr!.used.ICESTORM_RAM!.used).toBe(0);
  }, 60_000);

  it('iCE40 UP5K (iCEBreaker): a bitstream for the board, faster than its 12 MHz clock', () => {
    const r = buildTarget('ice40-up5k', out);
    expect(r.pnr!.fmaxMHz).toBeGreaterThan(12);
    const bits = readFileSync(r.bitstream!);
    expect(bits.length).toBe(104_090); // an UP5K image is always this size
    expect(bits.includes(Buffer.from('7eaa997e', 'hex'))).toBe(true); // the iCE40 sync word
  }, 60_000);
});

describe('nextpnr log figures', () => {
  it('takes the last (routed) Fmax and the utilisation lines', () => {
    const log = [
      "Info: Max frequency for clock 'clk$SB_IO_IN_$glb_clk': 100.82 MHz (PASS at 100.00 MHz)",
      'Info: \t         ICESTORM_LC:   325/ 7680     4%',
      "Info: Max frequency for clock 'clk$SB_IO_IN_$glb_clk': 129.08 MHz (PASS at 100.00 MHz)",
    ].join('\n');
    expect(placeAndRouteFigures(log)).toEqual({ fmaxMHz: 129.08, used: { ICESTORM_LC: { used: 325, of: 7680 } } });
    expect(() => placeAndRouteFigures('Info: nothing')).toThrow('nextpnr reported no Fmax');
  });
});
