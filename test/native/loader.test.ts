// How the addon is found and how the engine is chosen, checked in fresh
// processes against the built package (dist/, made by `npm install`).
// CI runs the whole suite once per loader path and sets
// ATOMIK_EXPECT_NATIVE to 'build', 'prebuild' or 'none' to pin which one ran.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { open } from '../../lib/index.js';
import { loadNative } from '../../lib/engine/native.js';
import { startBoard } from '../../lib/board/index.js';
import { noNative } from '../helpers/engines.js';
import { missing } from '../helpers/tools.js';
import { itUnless } from '../helpers/skip.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const esm = `${root}dist/index.js`;
const cjs = `${root}dist/index.cjs`;

/** Runs a snippet in a new Node process and returns what it printed as JSON. */
function run(script: string, env: Record<string, string>, type: 'module' | 'commonjs' = 'module'): unknown {
  const clean = { ...process.env };
  for (const key of ['ATOMIK_BACKEND', 'ATOMIK_NATIVE_PATH', 'PREBUILDS_ONLY']) delete clean[key];
  const out = execFileSync(process.execPath, ['--input-type=' + type, '-e', script], { env: { ...clean, ...env }, encoding: 'utf8' });
  return JSON.parse(out);
}

const openInfo = `
  const acc = await open({ contexts: 2 });
  await acc.accum(1, 5n);
  console.log(JSON.stringify({ info: acc.info, state: String(await acc.read(1)) }));
  await acc.close();`;

describe('loader and engine selection', () => {
  it('the built package exists (npm install runs the build)', () => {
    expect(existsSync(esm) && existsSync(cjs), `missing ${esm} or ${cjs}: run npm run build:ts`).toBe(true);
  });

  it('loads from the expected place', () => {
    const load = loadNative();
    const expected = process.env.ATOMIK_EXPECT_NATIVE;
    if (expected === 'none') expect(load.binding).toBeNull();
    if (expected === 'build') expect(load.path).toMatch(/[/\\]build[/\\](Release|Debug)[/\\]atomik\.node$/);
    if (expected === 'prebuild') expect(load.path).toMatch(/[/\\]prebuilds[/\\][^/\\]+[/\\][^/\\]*\.node$/);
    if (load.binding === null) expect(load.error).toBeTruthy();
  });

  it('without the addon, auto falls back to js and says why', () => {
    const r = run(`import { open } from ${JSON.stringify(esm)};${openInfo}`, { ATOMIK_NATIVE_PATH: '/nonexistent/atomik.node' }) as {
      info: { backend: string; reason: string; rejected: { native: string } };
      state: string;
    };
    expect(r.info.backend).toBe('js');
    expect(r.info.reason).toBe('auto: the native addon is unavailable, js is the fallback');
    expect(r.info.rejected.native).toContain('the native addon is not available');
    expect(r.info.rejected.native).toContain('/nonexistent/atomik.node');
    expect(r.state).toBe('5');
  });

  it('ATOMIK_BACKEND=native without the addon fails with the reason', () => {
    const r = run(
      `import { open } from ${JSON.stringify(esm)};
       try { await open(); console.log('null'); } catch (e) { console.log(JSON.stringify(e.message)); }`,
      { ATOMIK_NATIVE_PATH: '/nonexistent/atomik.node', ATOMIK_BACKEND: 'native' },
    );
    expect(r).toMatch(/^ATOMIK_BACKEND=native: the native addon is not available: .*\/nonexistent\/atomik\.node/);
  });

  it('ATOMIK_BACKEND=js forces the js engine', () => {
    const r = run(`import { open } from ${JSON.stringify(esm)};${openInfo}`, { ATOMIK_BACKEND: 'js' }) as { info: { backend: string; reason: string } };
    expect(r.info).toMatchObject({ backend: 'js', reason: 'js requested (ATOMIK_BACKEND=js)' });
  });

  itUnless(noNative, 'auto picks native when the addon loads', () => {
    const r = run(`import { open } from ${JSON.stringify(esm)};${openInfo}`, {}) as { info: { backend: string; reason: string } };
    expect(r.info.backend).toBe('native');
    expect(r.info.reason).toMatch(/^auto: the native addon loaded from .*\.node$/);
  });

  // Prebuilds are tagged glibc; node-gyp-build takes the C library from LIBC (musl on Alpine).
  const glibcPrebuild = `${root}prebuilds/linux-${process.arch}/atomik-node.glibc.node`;
  itUnless(
    process.platform !== 'linux'
      ? 'prebuilds are tagged with a C library on Linux only'
      : !existsSync(glibcPrebuild) && process.env.ATOMIK_EXPECT_NATIVE !== 'prebuild'
        ? `no glibc prebuild at ${glibcPrebuild} (npm run prebuild)`
        : null,
    'musl (Alpine) is never offered the glibc prebuild: js takes over (needs npm run prebuild)',
    () => {
      type Info = { info: { backend: string; reason: string; rejected: { native?: string } } };
      const script = `import { open } from ${JSON.stringify(esm)};${openInfo}`;
      const musl = run(script, { PREBUILDS_ONLY: '1', LIBC: 'musl' }) as Info;
      expect(musl.info.backend).toBe('js');
      expect(musl.info.rejected.native).toMatch(new RegExp(`No native build was found for platform=linux arch=${process.arch} .* libc=musl node=`));
      const glibc = run(script, { PREBUILDS_ONLY: '1', LIBC: 'glibc' }) as Info;
      expect(glibc.info.reason).toBe(`auto: the native addon loaded from ${glibcPrebuild}`);
    },
  );

  it('the CommonJS entry works like the ES module one', () => {
    const r = run(
      `const { AtomikContext, DeltaMessage, open } = require(${JSON.stringify(cjs)});
       const c = new AtomikContext({ group: 'add' }); c.accum(2n); c.accum(2n);
       open({ backend: 'js' }).then((acc) => console.log(JSON.stringify({ state: String(c.read()), backend: acc.info.backend,
         wire: Buffer.from(new DeltaMessage(1, 2n, 0, 3).encode()).toString('hex') })));`,
      {},
      'commonjs',
    );
    expect(r).toEqual({ state: '4', backend: 'js', wire: '00000001000000000000000200000003' });
  });
});

describe('serial selection', () => {
  itUnless(missing('make', 'cc'), 'auto picks the device ATOMIK_PORT names, and says so', async () => {
    const board = await startBoard();
    try {
      const r = run(`import { open } from ${JSON.stringify(esm)};${openInfo}`, { ATOMIK_PORT: board.port }) as {
        info: { backend: string; reason: string; rejected: Record<string, string> };
        state: string;
      };
      expect(r.info.backend).toBe('serial');
      expect(r.info.reason).toBe(`serial: ATOMIK_PORT=${board.port} (framed dialect)`);
      expect(r.info.rejected).toEqual({ js: 'auto: a serial device was chosen', native: 'auto: a serial device was chosen' });
      expect(r.state).toBe('5');
    } finally {
      await board.stop();
    }
  });

  it("backend 'serial' without a port or a known board fails clearly", async () => {
    await expect(open({ backend: 'serial', usbIds: ['ffff:fffe'] })).rejects.toThrow(
      "options.backend='serial': no port given (options.port or ATOMIK_PORT) and no board found by USB VID:PID (ffff:fffe)",
    );
  });

  it('auto looks for boards by VID:PID only when asked, and says what it found', async () => {
    const plain = await open({ backend: 'auto', contexts: 4 });
    expect(plain.info.rejected.serial).toBe('no port given (options.port or ATOMIK_PORT), and discovery is off (options.discover)');
    const looked = await open({ contexts: 4, discover: true, usbIds: ['ffff:fffe'] });
    expect(looked.info.backend).not.toBe('serial');
    expect(looked.info.rejected.serial).toBe('auto: no board found by USB VID:PID (ffff:fffe)');
    expect((await open({ backend: 'js' })).info.rejected.serial).toBe('not requested');
    await expect(open({ discover: 'yes' as never })).rejects.toThrow('options.discover must be a boolean');
  });

  it('a named port that does not exist fails clearly', async () => {
    await expect(open({ port: '/dev/does-not-exist' })).rejects.toThrow(/^cannot open \/dev\/does-not-exist: /);
  });
});
