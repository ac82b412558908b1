// The open FPGA tools behind `npm run fpga:build`, from two sources with one
// interface:
//
//   debian  yosys, nextpnr-ice40 and icepack on the PATH (Debian packages
//           yosys, nextpnr-ice40, fpga-icestorm)
//   yowasp  @yowasp/yosys and @yowasp/nextpnr-ice40 from npm: WebAssembly
//           builds that need only Node. Taken from node_modules when they
//           are installed there, else installed on first use into
//           $ATOMIK_CACHE_DIR/yowasp (default ~/.cache/atomik-node/yowasp),
//           with npm's progress shown.
//
// Each toolchain runs a tool on files in a work directory: inputs are read
// from `inputs` (name -> path), outputs are written into `dir`.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The npm packages and versions of the yowasp toolchain (pinned: results stay comparable). */
export const YOWASP_PACKAGES = { '@yowasp/yosys': '0.55.944', '@yowasp/nextpnr-ice40': '0.8.621' };

export const has = (cmd) => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** Where the yowasp packages are installed on demand. */
export function yowaspCacheDir() {
  const root = process.env.ATOMIK_CACHE_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'atomik-node');
  return join(root, 'yowasp');
}

const failure = (tool, text) => new Error(`${tool} failed: ${text.trim().split('\n').slice(-15).join('\n')}`);

/** The Debian tools, or null with the reason when one is missing. */
export function debianToolchain() {
  const missing = ['yosys', 'nextpnr-ice40', 'icepack'].filter((c) => !has(c));
  if (missing.includes('yosys')) return { name: 'debian', missing };
  // Asynchronous: a build of minutes must not block the event loop (progress, test runners).
  const run = (cmd, args, dir) =>
    new Promise((resolve, reject) => {
      execFile(cmd, args, { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
        const text = `${stdout ?? ''}${stderr ?? ''}`;
        if (err) reject(failure(cmd, text || err.message));
        else resolve(text);
      });
    });
  const first = (cmd, args) => {
    if (!has(cmd)) return null;
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    return `${r.stdout}${r.stderr}`.trim().split('\n')[0]; // nextpnr prints its version on stderr
  };
  return {
    name: 'debian',
    missing,
    versions: { yosys: first('yosys', ['-V']), nextpnrIce40: first('nextpnr-ice40', ['--version']) },
    canPlaceIce40: !missing.includes('nextpnr-ice40') && !missing.includes('icepack'),
    // Debian's tools read the inputs where they are; names in args are paths.
    async yosys(args, inputs, dir) {
      return run(
        'yosys',
        args.map((a) => substitute(a, inputs)),
        dir,
      );
    },
    async nextpnrIce40(args, inputs, dir) {
      return run(
        'nextpnr-ice40',
        args.map((a) => substitute(a, inputs)),
        dir,
      );
    },
    async icepack(args, inputs, dir) {
      return run(
        'icepack',
        args.map((a) => substitute(a, inputs)),
        dir,
      );
    },
  };
}

// `@name` in an argument stands for an input file's path (Debian) or name (yowasp).
function substitute(arg, inputs, plain = false) {
  return arg.replace(/@([\w.-]+)/g, (m, name) => (name in inputs ? (plain ? name : inputs[name]) : m));
}

async function importFrom(pkg, base) {
  const resolved = createRequire(join(base, 'noop.js')).resolve(pkg);
  return import(pathToFileURL(resolved).href);
}

/** Loads a yowasp package from node_modules, else from the cache (null when in neither). */
async function loadYowasp(pkg) {
  for (const base of [fileURLToPath(new URL('../../..', import.meta.url)), process.cwd(), yowaspCacheDir()]) {
    try {
      return await importFrom(pkg, base);
    } catch {
      /* not there */
    }
  }
  return null;
}

/** Installs the yowasp packages into the cache with npm, its progress on the terminal. */
export function installYowasp(log = console.log) {
  const dir = yowaspCacheDir();
  mkdirSync(dir, { recursive: true });
  const specs = Object.entries(YOWASP_PACKAGES).map(([p, v]) => `${p}@${v}`);
  log(`fpga:build: installing ${specs.join(' ')} into ${dir} (about 260 MB, once)`);
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--progress=true', '--prefix', dir, ...specs], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`npm install ${specs.join(' ')} into ${dir} failed (exit ${r.status ?? r.error?.message})`);
}

/**
 * The yowasp tools, or { missing } when the packages are in neither
 * node_modules nor the cache (and `install` is false).
 */
export async function yowaspToolchain({ install = false, log = console.log } = {}) {
  let yosys = await loadYowasp('@yowasp/yosys');
  let nextpnr = await loadYowasp('@yowasp/nextpnr-ice40');
  if ((!yosys || !nextpnr) && install) {
    installYowasp(log);
    yosys = await loadYowasp('@yowasp/yosys');
    nextpnr = await loadYowasp('@yowasp/nextpnr-ice40');
  }
  if (!yosys || !nextpnr) return { name: 'yowasp', missing: Object.keys(YOWASP_PACKAGES).filter((p, i) => ![yosys, nextpnr][i]) };
  // A yowasp tool sees a virtual tree: the inputs by their names, outputs returned.
  const runner = (command, tool) => async (args, inputs, dir) => {
    const files = {};
    for (const [name, path] of Object.entries(inputs)) files[name] = readFileSync(path);
    let text = '';
    const collect = (bytes) => {
      if (bytes) text += Buffer.from(bytes).toString('utf8');
    };
    let tree;
    try {
      tree = await command(
        args.map((a) => substitute(a, inputs, true)),
        files,
        { stdout: collect, stderr: collect, decodeASCII: false },
      );
    } catch (err) {
      throw failure(tool, `${text}\n${err.message}`);
    }
    for (const [name, content] of Object.entries(tree ?? {})) {
      if (!(name in inputs) && (typeof content === 'string' || content instanceof Uint8Array)) writeFileSync(join(dir, basename(name)), content);
    }
    return text;
  };
  return {
    name: 'yowasp',
    missing: [],
    versions: { yosys: `Yosys ${yosys.version} (@yowasp/yosys)`, nextpnrIce40: `nextpnr-ice40 ${nextpnr.version} (@yowasp/nextpnr-ice40)` },
    canPlaceIce40: true,
    yosys: runner(yosys.runYosys, 'yosys'),
    nextpnrIce40: runner(nextpnr.runNextpnrIce40, 'nextpnr-ice40'),
    icepack: runner(nextpnr.runIcepack, 'icepack'),
  };
}
