// Synthesis and place-and-route of the board design with open tools: yosys
// (GW1N-9C and iCE40) and nextpnr-ice40 (HX8K, UP5K). Fails when a build
// grows past its budget or misses its clock, and every build fails on a
// latch or a net with two drivers (yosys select/check -assert).
// - official dialect: smaller than the official design's 579 LUT / 537 FF
//   (Gowin EDA, published) and 678 LUT4 + 132 ALU (its RTL through yosys),
//   Fmax >= 100 MHz on iCE40 HX8K;
// - framed protocol: at most a quarter of a GW1N-9C's logic (every LUT
//   yosys leaves, constant LUT1s included, plus ALUs: fpga.mjs COUNTING),
//   at most half of an HX8K's block RAM, Fmax >= 54 MHz (twice the Tang
//   Nano 9K's 27 MHz) on HX8K.
// And `npm run fpga:build` from npm alone: the @yowasp toolchain builds
// the iCEBreaker bitstream (installed into the cache on first use).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { OFFICIAL, buildTarget, placeAndRouteFigures } from '../../firmware/rtl/synth/fpga.mjs';
import { missing } from '../helpers/tools.js';
import { describeUnless } from '../helpers/skip.js';

const noTools = missing('yosys', 'nextpnr-ice40', 'icepack');
const out = mkdtempSync(join(tmpdir(), 'atomik-fpga-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** An UP5K image is always this size, and holds the iCE40 sync word. */
function expectUp5kImage(path: string) {
  const bits = readFileSync(path);
  expect(bits.length).toBe(104_090);
  expect(bits.includes(Buffer.from('7eaa997e', 'hex'))).toBe(true);
}

describeUnless(noTools, 'FPGA builds with open tools (Debian)', () => {
  it('GW1N-9C (Tang Nano 9K), official dialect: smaller than the official design, no latches', async () => {
    const r = await buildTarget('gw1n-9c', out);
    const { lut4, alu = 0, ff } = r.synth;
    expect(lut4 + alu).toBeLessThan(OFFICIAL.published.lut);
    expect(ff).toBeLessThan(OFFICIAL.published.ff);
    expect(lut4).toBeLessThan(OFFICIAL.openTools.lut4);
    expect(alu).toBeLessThan(OFFICIAL.openTools.alu);
    expect(r.share.logic).toBeLessThanOrEqual(25);
  }, 300_000);

  it('iCE40 HX8K, official dialect: placed and routed at >= 100 MHz, no latches', async () => {
    const r = await buildTarget('ice40-hx8k', out);
    expect(r.synth.ff).toBeLessThan(OFFICIAL.published.ff);
    expect(r.pnr!.fmaxMHz).toBeGreaterThanOrEqual(100);
    expect(r.pnr!.used.ICESTORM_RAM!.used).toBe(0);
  }, 300_000);

  it('iCE40 UP5K (iCEBreaker): a bitstream for the board, faster than its 12 MHz clock', async () => {
    const r = await buildTarget('ice40-up5k', out);
    expect(r.pnr!.fmaxMHz).toBeGreaterThan(12);
    expectUp5kImage(r.bitstream!);
  }, 300_000);

  it('GW1N-9C, framed protocol: at most a quarter of the logic, counting every LUT and ALU', async () => {
    const r = await buildTarget('gw1n-9c-framed', out);
    const { lut4, alu = 0, constLut1 = 0, bram } = r.synth;
    expect(r.share.logic).toBe(Math.round((1000 * (lut4 + alu)) / 8640) / 10);
    expect(r.share.logic).toBeLessThanOrEqual(25);
    expect(constLut1).toBeLessThan(lut4);
    expect(bram).toBeGreaterThan(0); // contexts, ring and slots in block RAM, not in logic
    expect(r.skipped).toMatch(/^place-and-route skipped: /);
  }, 600_000);

  it('iCE40 HX8K, framed protocol: at most half the block RAM, >= 54 MHz (twice the Tang Nano 9K clock)', async () => {
    const r = await buildTarget('ice40-hx8k-framed', out);
    const ram = r.pnr!.used.ICESTORM_RAM!;
    expect(ram.used / ram.of).toBeLessThanOrEqual(0.5);
    expect(r.share.bram).toBeLessThanOrEqual(50);
    expect(r.pnr!.fmaxMHz).toBeGreaterThanOrEqual(54);
  }, 600_000);
});

describe('npm run fpga:build from npm alone (@yowasp/yosys, @yowasp/nextpnr-ice40)', () => {
  it('builds the iCEBreaker bitstream and reports which toolchain did', async () => {
    const script = fileURLToPath(new URL('../../firmware/rtl/synth/fpga.mjs', import.meta.url));
    const dir = join(out, 'npm-alone');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [script, '--toolchain', 'yowasp', '--targets', 'ice40-up5k', '--out', dir, '--report', join(dir, 'report.json')],
      { maxBuffer: 1 << 24 },
    );
    expect(stdout).toMatch(/^toolchains: yowasp \(Yosys [\d.]+ \(@yowasp\/yosys\); nextpnr-ice40 [\d.]+ \(@yowasp\/nextpnr-ice40\)\)$/m);
    expect(stdout).toMatch(/^ice40-up5k {9}yowasp: \d+ LC \([\d.]+%\), \d+ FF, 0 BRAM \(0%\), [\d.]+ MHz \[[\d.]+ s\]$/m);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(Object.keys(report.tools)).toEqual(['yowasp', 'nextpnrHimbaechel']);
    expect(report.targets).toHaveLength(1);
    expect(report.targets[0]).toMatchObject({ target: 'ice40-up5k', toolchain: 'yowasp', design: 'legacy', skipped: null });
    expect(report.targets[0].pnr.fmaxMHz).toBeGreaterThan(12);
    expectUp5kImage(join(dir, 'yowasp', 'icebreaker.bin'));
  }, 900_000); // the first run installs about 260 MB into the cache
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
