// Synthesis and place-and-route of the board design with open tools:
// yosys for GW1N-9C (Tang Nano 9K) and iCE40, nextpnr-ice40 + icepack for
// iCE40 HX8K and UP5K (iCEBreaker), and, when nextpnr-himbaechel and
// gowin_pack are installed (not in Debian 12), Gowin place-and-route.
//
//   node firmware/rtl/synth/fpga.mjs [--out DIR] [--report FILE] [--targets a,b]
//
// Bitstreams go to DIR (default firmware/build/fpga); the report (LUTs,
// FFs, block RAM, Fmax per target) to FILE (default bench/results/fpga.json).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const rtl = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(rtl, '..', '..');
const SOURCES = ['atomik_board.v', 'atomik_legacy.v', 'atomik_framed.v', 'uart_rx.v', 'uart_tx.v'].map((f) => join(rtl, f));

/** The official design, for comparison (ATOMiK's published figures, and its RTL through yosys + nextpnr). */
export const OFFICIAL = {
  published: { tool: 'Gowin EDA', device: 'GW1NR-9', lut: 579, ff: 537, mhz: 94.5 },
  openTools: { tool: 'yosys + nextpnr-himbaechel', device: 'GW1N-9C', lut4: 678, alu: 132, mhz: 105 },
};

/**
 * Build targets. `board` targets have pin constraints and give a bitstream
 * to flash; hx8k is placed with free pins, for its resources and Fmax only.
 * `freqMHz` is what nextpnr is asked to meet (the targets of the issue for
 * the official dialect: >= 100 MHz on GW1N-9C and HX8K; the framed design
 * needs the board's 27 MHz); the boards themselves run from their crystal
 * (27 / 12 MHz).
 */
export const TARGETS = {
  // capacity: LUT4 (Gowin ALUs use LUT sites too), flip-flops, block RAMs
  'gw1n-9c': {
    family: 'gowin',
    board: 'tangnano9k',
    device: 'GW1NR-LV9QN88PC6/I5',
    part: 'GW1N-9C',
    clockHz: 27_000_000,
    leds: 6,
    constraints: 'tangnano9k.cst',
    freqMHz: 100,
    capacity: { lut: 8640, ff: 6480, bram: 26 },
  },
  'ice40-hx8k': {
    family: 'ice40',
    board: null,
    device: 'hx8k',
    package: 'ct256',
    clockHz: 12_000_000,
    leds: 6,
    constraints: null,
    freqMHz: 100,
    capacity: { lut: 7680, ff: 7680, bram: 32 },
  },
  'ice40-up5k': {
    family: 'ice40',
    board: 'icebreaker',
    device: 'up5k',
    package: 'sg48',
    clockHz: 12_000_000,
    leds: 2,
    constraints: 'icebreaker.pcf',
    freqMHz: 50,
    capacity: { lut: 5280, ff: 5280, bram: 30 },
  },
  // The framed protocol (256 contexts, 32 ops, 1024-byte payloads, 16 cached replies).
  'gw1n-9c-framed': {
    family: 'gowin',
    framed: true,
    board: 'tangnano9k',
    device: 'GW1NR-LV9QN88PC6/I5',
    part: 'GW1N-9C',
    clockHz: 27_000_000,
    leds: 6,
    constraints: 'tangnano9k.cst',
    freqMHz: 27,
    capacity: { lut: 8640, ff: 6480, bram: 26 },
  },
  'ice40-hx8k-framed': {
    family: 'ice40',
    framed: true,
    board: null,
    device: 'hx8k',
    package: 'ct256',
    clockHz: 12_000_000,
    leds: 6,
    constraints: null,
    freqMHz: 27,
    capacity: { lut: 7680, ff: 7680, bram: 32 },
  },
};

const has = (cmd) => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** Tools a target needs for synthesis, and for place-and-route. */
export function missingTools(name) {
  const t = TARGETS[name];
  const synth = ['yosys'].filter((c) => !has(c));
  const pnr = (t.family === 'ice40' ? ['nextpnr-ice40', 'icepack'] : ['nextpnr-himbaechel', 'gowin_pack']).filter((c) => !has(c));
  return { synth, pnr };
}

const run = (cmd, args, log) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (log) writeFileSync(log, text);
  if (r.status !== 0) throw new Error(`${cmd} failed: ${(r.error?.message ?? text).trim().split('\n').slice(-15).join('\n')}`);
  return text;
};

const pct = (n, of) => Math.round((1000 * n) / of) / 10;
const sum = (cells, re) => Object.entries(cells).reduce((n, [type, k]) => (re.test(type) ? n + k : n), 0);

/** Resources from yosys' cell counts, in each family's own cells. */
function resources(family, cells) {
  if (family === 'gowin') {
    return { lut4: sum(cells, /^LUT[1-4]$/), alu: sum(cells, /^ALU$/), ff: sum(cells, /^DFF/), bram: sum(cells, /^(pROM|SP|SDP|DP)(X9)?B?$/) };
  }
  return { lut4: sum(cells, /^SB_LUT4$/), carry: sum(cells, /^SB_CARRY$/), ff: sum(cells, /^SB_DFF/), bram: sum(cells, /^SB_RAM40_4K/) };
}

/** Synthesises (and where the tools exist, places, routes and packs) one target into `out`. */
export function buildTarget(name, out) {
  const t = TARGETS[name];
  mkdirSync(out, { recursive: true });
  const netlist = join(out, `${name}.json`);
  const stat = join(out, `${name}.stat.json`);
  const synth = t.family === 'gowin' ? 'synth_gowin' : 'synth_ice40';
  const script = [
    `read_verilog -I${rtl} ${SOURCES.join(' ')}`,
    `chparam -set CLK_HZ ${t.clockHz} -set LEDS ${t.leds} -set FRAMED ${t.framed ? 1 : 0} atomik_board`,
    'design -save source',
    'hierarchy -top atomik_board; proc; select -assert-none t:$dlatch t:$adlatch t:$dlatchsr', // no latches
    'design -load source', // synthesise from the source, not from this check's netlist
    // write_json, not synth_gowin -json: that one also turns off block RAM (for the old nextpnr-gowin)
    `${synth} -top atomik_board`,
    `write_json ${netlist}`,
    'check -assert', // no multiple drivers, no combinational loops
    `tee -q -o ${stat} stat -json`,
  ].join('; ');
  run('yosys', ['-q', '-p', script], join(out, `${name}.yosys.log`));
  const cells = JSON.parse(readFileSync(stat, 'utf8')).design.num_cells_by_type;
  const synthesised = resources(t.family, cells);
  const logic = synthesised.lut4 + (synthesised.alu ?? 0);
  const share = { logic: pct(logic, t.capacity.lut), ff: pct(synthesised.ff, t.capacity.ff), bram: pct(synthesised.bram, t.capacity.bram) };
  const result = {
    target: name,
    design: t.framed ? 'framed' : 'legacy',
    family: t.family,
    device: t.part ?? `iCE40${t.device.toUpperCase()}-${t.package}`,
    board: t.board,
    clockHz: t.clockHz,
    synth: synthesised,
    share,
    pnr: null,
    bitstream: null,
    skipped: null,
  };

  const missing = missingTools(name).pnr;
  if (missing.length) {
    result.skipped = `place-and-route skipped: ${missing.join(', ')} not installed${t.family === 'gowin' ? ' (nextpnr-himbaechel with the gowin uarch and apycula are not in Debian 12; see firmware/rtl/README.md)' : ''}`;
    return result;
  }
  const log = join(out, `${name}.nextpnr.log`);
  if (t.family === 'ice40') {
    const asc = join(out, `${name}.asc`);
    const args = [`--${t.device}`, '--package', t.package, '--json', netlist, '--asc', asc, '--freq', String(t.freqMHz), '--seed', '1'];
    if (t.constraints) args.push('--pcf', join(rtl, 'boards', t.constraints));
    run('nextpnr-ice40', args, log);
    if (t.board) {
      result.bitstream = join(out, `${t.board}${t.framed ? '-framed' : ''}.bin`);
      run('icepack', [asc, result.bitstream]);
    }
  } else {
    const routed = join(out, `${name}.routed.json`);
    run(
      'nextpnr-himbaechel',
      [
        '--device',
        t.device,
        '--vopt',
        `family=${t.part}`,
        '--vopt',
        `cst=${join(rtl, 'boards', t.constraints)}`,
        '--json',
        netlist,
        '--write',
        routed,
        '--freq',
        String(t.freqMHz),
        '--seed',
        '1',
      ],
      log,
    );
    result.bitstream = join(out, `${t.board}${t.framed ? '-framed' : ''}.fs`);
    run('gowin_pack', ['-d', t.part, '-o', result.bitstream, routed]);
  }
  result.pnr = placeAndRouteFigures(readFileSync(log, 'utf8'));
  return result;
}

/** Fmax (the final, routed figure) and the utilisation lines of a nextpnr log. */
export function placeAndRouteFigures(log) {
  const fmax = [...log.matchAll(/Max frequency for clock +'[^']*': ([\d.]+) MHz/g)].map((m) => Number(m[1]));
  const used = {};
  for (const m of log.matchAll(/^Info:\s+(\w+):\s+(\d+)\/\s*(\d+)/gm)) used[m[1]] = { used: Number(m[2]), of: Number(m[3]) };
  if (!fmax.length) throw new Error('nextpnr reported no Fmax');
  return { fmaxMHz: fmax.at(-1), used };
}

function toolVersions() {
  const first = (cmd, args) => (has(cmd) ? run(cmd, args).trim().split('\n')[0] : null);
  return { yosys: first('yosys', ['-V']), nextpnrIce40: first('nextpnr-ice40', ['--version']), nextpnrHimbaechel: first('nextpnr-himbaechel', ['--version']) };
}

async function main(argv) {
  const opt = (name, fallback) => {
    const at = argv.indexOf(name);
    return at >= 0 ? argv[at + 1] : fallback;
  };
  const out = opt('--out', join(root, 'firmware', 'build', 'fpga'));
  const reportPath = opt('--report', join(root, 'bench', 'results', 'fpga.json'));
  const names = opt('--targets', Object.keys(TARGETS).join(',')).split(',');
  for (const n of names) if (!TARGETS[n]) throw new Error(`unknown target ${n} (have ${Object.keys(TARGETS).join(', ')})`);
  const results = [];
  for (const name of names) {
    const started = Date.now();
    const r = buildTarget(name, out);
    const s = r.synth;
    const luts = r.family === 'gowin' ? `${s.lut4} LUT4 + ${s.alu} ALU` : `${s.lut4} LUT4 + ${s.carry} carry`;
    console.log(
      `${name.padEnd(11)} ${luts}, ${s.ff} FF, ${s.bram} BRAM${r.pnr ? `, Fmax ${r.pnr.fmaxMHz} MHz` : ''}${r.bitstream ? `, ${r.bitstream}` : ''} (${Date.now() - started} ms)`,
    );
    if (r.skipped) console.log(`            ${r.skipped}`);
    results.push({ ...r, bitstream: r.bitstream && r.bitstream.slice(root.length + 1) });
  }
  const report = {
    about:
      'Resources and Fmax of firmware/rtl per target and design (legacy: the official dialect; framed: the framed protocol); written by npm run fpga:build.',
    machine: `${cpus()[0]?.model.trim()}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, ${process.platform} ${process.arch}, Node ${process.versions.node}`,
    tools: toolVersions(),
    official: OFFICIAL,
    targets: results,
  };
  mkdirSync(dirname(reportPath), { recursive: true });
  writeFileSync(reportPath, JSON.stringify(report, null, 2) + '\n');
  console.log(`report: ${reportPath}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(`fpga:build: ${err.message}`);
    process.exit(1);
  });
}
