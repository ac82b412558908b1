// The hardware-in-the-loop kit (atomik-node/board): the fault line's options,
// its faults byte by byte, unplug and replug, a board restarted at the same
// path (protocol version 2 tells the reboot apart), the firmware build cache
// and progress, a read-only copy of the package, and the hardware-in-the-loop example of docs/testing-hardware.md.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBoard, startFaultLine, type FaultLine, type VirtualBoard } from '../../lib/board/index.js';
import { buildCacheDir } from '../../lib/board/build-cache.js';
import { AtomikRangeError, AtomikTypeError } from '../../lib/core/errors.js';
import type { Progress } from '../../lib/core/progress.js';
import { FRAME, FrameDecoder, decodeHello, encodeFrame, encodeOpen, encodeOps, type Frame } from '../../lib/serial/frame.js';
import { openSerialTransport, type Transport } from '../../lib/serial/transport.js';
import { RTL_TEST_BAUD, noRtl } from '../helpers/boards.js';
import { missing } from '../helpers/tools.js';
import { rejected as failure } from '../helpers/errors.js';
import type { HelloInfo } from '../../lib/backend/device.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const noHost = missing('make', 'cc');
const noLine = noHost ?? missing('socat');
const noM3 = noHost ?? missing('arm-none-eabi-gcc', 'qemu-system-arm', 'socat');
const skipped = (reason: string | null) => (reason ? ` (skipped: ${reason} not found)` : '');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A port opened for raw frames: send one, get the reply with its SEQ. */
async function rawPort(path: string) {
  const t: Transport = await openSerialTransport(path, { lock: false });
  const decoder = new FrameDecoder();
  const frames: Frame[] = [];
  let closed: Error | null | undefined;
  t.onData((d) => frames.push(...decoder.push(d)));
  t.onClose((err) => (closed = err));
  const reply = async (seq: number, type: number, payload?: Uint8Array): Promise<Frame> => {
    await t.write(encodeFrame(seq, type, payload));
    for (let i = 0; i < 300; i++) {
      const at = frames.findIndex((f) => f.seq === seq);
      if (at >= 0) return frames.splice(at, 1)[0]!;
      await sleep(10);
    }
    throw new Error(`no reply to SEQ ${seq} on ${path}`);
  };
  return {
    transport: t,
    closed: () => closed,
    hello: async (seq: number): Promise<HelloInfo> => decodeHello((await reply(seq, FRAME.hello)).payload),
    open: async (seq: number, session: number) => (await reply(seq, FRAME.open, encodeOpen(session, 'xor'))).type,
    accum: async (seq: number, index: number, delta: bigint) => (await reply(seq, FRAME.batch, encodeOps([{ op: 'accum', index, value: delta }]))).type,
    read: async (seq: number, index: number) => {
      const f = await reply(seq, FRAME.batch, encodeOps([{ op: 'read', index }]));
      return new DataView(f.payload.buffer, f.payload.byteOffset).getBigUint64(0);
    },
  };
}

async function until(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  for (const end = Date.now() + timeoutMs; !condition(); await sleep(10)) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}

describe('startFaultLine options', () => {
  const cases: [string, unknown, unknown, string, string][] = [
    [
      'the old name of flip',
      '/dev/null',
      { corrupt: 0.1 },
      'ERR_ATOMIK_INVALID_ARG_VALUE',
      'options.corrupt is not a fault line option (drop, duplicate, flip, delayMs, seed)',
    ],
    ['a rate above 1', '/dev/null', { drop: 1.5 }, 'ERR_ATOMIK_OUT_OF_RANGE', 'options.drop must be in [0, 1], got 1.5'],
    ['a negative rate', '/dev/null', { duplicate: -0.1 }, 'ERR_ATOMIK_OUT_OF_RANGE', 'options.duplicate must be in [0, 1], got -0.1'],
    ['NaN', '/dev/null', { flip: NaN }, 'ERR_ATOMIK_OUT_OF_RANGE', 'options.flip must be in [0, 1], got NaN'],
    ['a rate given as a string', '/dev/null', { drop: '0.1' }, 'ERR_ATOMIK_INVALID_ARG_TYPE', 'options.drop must be a number in [0, 1], got "0.1"'],
    ['a negative delay', '/dev/null', { delayMs: -1 }, 'ERR_ATOMIK_OUT_OF_RANGE', 'options.delayMs must be in [0, 10000], got -1'],
    ['a fractional seed', '/dev/null', { seed: 1.5 }, 'ERR_ATOMIK_INVALID_ARG_TYPE', 'options.seed must be an integer, got 1.5'],
    ['a seed above 2^32', '/dev/null', { seed: 2 ** 32 }, 'ERR_ATOMIK_OUT_OF_RANGE', 'options.seed must be in [0, 4294967295], got 4294967296'],
    ['options that are not an object', '/dev/null', 5, 'ERR_ATOMIK_INVALID_ARG_TYPE', 'options must be an object'],
    ['no port', '', {}, 'ERR_ATOMIK_INVALID_ARG_TYPE', 'boardPort must be a non-empty string, got ""'],
  ];
  for (const [what, port, options, code, message] of cases) {
    it(`refuses ${what}`, async () => {
      const err = await failure(() => startFaultLine(port as string, options as object));
      expect(err).toBeInstanceOf(code === 'ERR_ATOMIK_OUT_OF_RANGE' ? AtomikRangeError : AtomikTypeError);
      expect([err.code, err.message]).toEqual([code, message]);
    });
  }
});

describe('startBoard options', () => {
  const cases: [string, unknown, string, string][] = [
    ['an unknown board', { board: 'esp32' }, 'ERR_ATOMIK_INVALID_ARG_VALUE', "options.board must be one of 'host', 'cortex-m3', 'rtl', got \"esp32\""],
    ['contexts 0', { contexts: 0 }, 'ERR_ATOMIK_OUT_OF_RANGE', 'options.contexts must be in [1, 65535], got 0'],
    ['a fractional baud rate', { baud: 9600.5 }, 'ERR_ATOMIK_INVALID_ARG_TYPE', 'options.baud must be an integer, got 9600.5'],
    ['legacy as a string', { legacy: 'yes' }, 'ERR_ATOMIK_INVALID_ARG_TYPE', 'options.legacy must be a boolean'],
    ['an empty link', { link: '' }, 'ERR_ATOMIK_INVALID_ARG_TYPE', 'options.link must be a non-empty string'],
    ['onProgress that is not a function', { onProgress: 1 }, 'ERR_ATOMIK_INVALID_ARG_TYPE', 'options.onProgress must be a function'],
    [
      'contexts on the cortex-m3 board',
      { board: 'cortex-m3', contexts: 4 },
      'ERR_ATOMIK_INVALID_ARG_VALUE',
      'the cortex-m3 board runs the framed firmware as built: legacy, baud and contexts are options of the host and rtl boards',
    ],
  ];
  for (const [what, options, code, message] of cases) {
    it(`refuses ${what}`, async () => {
      const err = await failure(() => startBoard(options as object));
      expect([err.code, err.message]).toEqual([code, message]);
    });
  }
});

describe.skipIf(noLine !== null)(`the fault line, byte by byte${skipped(noLine)}`, () => {
  // The "board" here is a bare PTY pair: one end behind the line, the other read and written by the test.
  let dir: string;
  let socat: ReturnType<typeof spawn>;
  let board: Transport;
  const lines: FaultLine[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'atomik-line-test-'));
    socat = spawn('socat', [`pty,raw,echo=0,link=${dir}/board`, `pty,raw,echo=0,link=${dir}/probe`], { stdio: 'ignore' });
    await until('the PTY pair', () => existsSync(`${dir}/board`) && existsSync(`${dir}/probe`));
    board = await openSerialTransport(`${dir}/probe`, { lock: false });
  });
  afterEach(async () => {
    for (const l of lines.splice(0)) await l.stop();
  });
  afterAll(async () => {
    await board?.close();
    socat?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  /** Sends `bytes` from the host end through `line`; returns what reached the board end. */
  async function through(line: FaultLine, bytes: Uint8Array, expectAtLeast: number): Promise<Uint8Array> {
    const host = await openSerialTransport(line.port, { lock: false });
    const before = line.stats.bytes;
    const got: number[] = [];
    board.onData((d) => got.push(...d));
    for (let at = 0; at < bytes.length; at += 256) await host.write(bytes.subarray(at, at + 256));
    await until('the bytes', () => got.length >= expectAtLeast && line.stats.bytes - before >= bytes.length);
    await sleep(50); // nothing more is on its way
    await host.close();
    return Uint8Array.from(got);
  }
  const traffic = Uint8Array.from({ length: 4096 }, (_, i) => (i * 37) & 0xff);

  it('a clean line passes every byte unchanged', async () => {
    const line = await startFaultLine(`${dir}/board`, { seed: 1 });
    lines.push(line);
    expect(line.faults).toEqual({ drop: 0, duplicate: 0, flip: 0, delayMs: 0 });
    expect(await through(line, traffic, traffic.length)).toEqual(traffic);
    expect(line.stats).toEqual({ bytes: 4096, dropped: 0, duplicated: 0, flipped: 0, lost: 0 });
  });

  it('flip 1 inverts exactly one bit of every byte; duplicate 1 doubles every byte; drop 1 loses them all', async () => {
    const line = await startFaultLine(`${dir}/board`, { seed: 2, flip: 1 });
    lines.push(line);
    const flipped = await through(line, traffic, traffic.length);
    expect(flipped.length).toBe(traffic.length);
    expect([...flipped].every((b, i) => [1, 2, 4, 8, 16, 32, 64, 128].includes(b ^ traffic[i]!))).toBe(true);
    expect(line.stats).toEqual({ bytes: 4096, dropped: 0, duplicated: 0, flipped: 4096, lost: 0 });

    line.faults = { duplicate: 1 };
    expect(line.faults).toEqual({ drop: 0, duplicate: 1, flip: 0, delayMs: 0 });
    const doubled = await through(line, traffic.subarray(0, 100), 200);
    expect([...doubled]).toEqual([...traffic.subarray(0, 100)].flatMap((b) => [b, b]));

    line.faults = { drop: 1 };
    expect(await through(line, traffic.subarray(0, 100), 0)).toEqual(new Uint8Array(0));
    expect(line.stats).toEqual({ bytes: 4296, dropped: 100, duplicated: 100, flipped: 4096, lost: 0 });
  });

  it('the same seed and traffic give the same faults; another seed others', async () => {
    const run = async (seed: number) => {
      const line = await startFaultLine(`${dir}/board`, { seed, drop: 0.02, duplicate: 0.02, flip: 0.02 });
      lines.push(line);
      const out = await through(line, traffic, 1);
      return { out: Buffer.from(out).toString('hex'), stats: line.stats };
    };
    const a = await run(99);
    const b = await run(99);
    const c = await run(100);
    expect(b).toEqual(a);
    expect(c.out).not.toBe(a.out);
    for (const s of [a.stats, c.stats]) {
      expect(s.bytes).toBe(4096);
      for (const n of [s.dropped, s.duplicated, s.flipped]) expect(n).toBeGreaterThan(40); // about 82 each
      expect(s.lost).toBe(0);
    }
  });

  it('a bad rate set at run time is refused and the faults stay as they were', async () => {
    const line = await startFaultLine(`${dir}/board`, { seed: 3, drop: 0.5 });
    lines.push(line);
    const err = await failure(() => {
      line.faults = { drop: 0.1, flip: 2 };
    });
    expect([err.code, err.message]).toEqual(['ERR_ATOMIK_OUT_OF_RANGE', 'faults.flip must be in [0, 1], got 2']);
    expect(line.faults).toEqual({ drop: 0.5, duplicate: 0, flip: 0, delayMs: 0 });
    expect(Object.isFrozen(line.faults)).toBe(true);
  });
});

describe.skipIf(noLine !== null)(`unplug, replug and restart on the host board${skipped(noLine)}`, () => {
  let board: VirtualBoard;
  let line: FaultLine;
  beforeAll(async () => {
    board = await startBoard({ contexts: 16 });
    line = await startFaultLine(board.port, { seed: 5 });
  });
  afterAll(async () => {
    await line?.stop();
    await board?.stop();
  });

  it('the board lives at a stable path of its own when no link is given', () => {
    expect(board.port).toMatch(/^\/.*\/atomik-host-[^/]+\/tty$/);
    expect(existsSync(board.port)).toBe(true);
  });

  it('unplug closes the host port and removes its path; replug brings it back with the board untouched', async () => {
    const a = await rawPort(line.port);
    const before = await a.hello(1);
    expect([before.protocol, before.session]).toEqual([2, 0]);
    expect(before.bootId).not.toBe(0);
    expect(await a.open(2, 0xc0ffee01)).toBe(FRAME.result);
    expect(await a.accum(3, 7, 42n)).toBe(FRAME.result);

    await line.unplug();
    await until('the host port to close', () => a.closed() !== undefined);
    expect([existsSync(line.port), line.plugged]).toEqual([false, false]);

    await line.replug();
    expect([existsSync(line.port), line.plugged]).toEqual([true, true]);
    const b = await rawPort(line.port);
    // Same board, same session: the host may continue, and a retransmitted
    // frame (SEQ 3, the accumulate) is answered from the cache, not applied again.
    expect(await b.hello(4)).toEqual({ ...before, session: 0xc0ffee01 });
    expect(await b.accum(3, 7, 42n)).toBe(FRAME.result);
    expect(await b.read(5, 7)).toBe(42n);
    await b.transport.close();
  });

  it('restart kills the board and starts it again at the same path: state and session gone, a new boot id', async () => {
    // Behind the line (which keeps the board's port open: a PTY has one reader).
    const through = await rawPort(line.port);
    const before = await through.hello(10);
    expect(before.session).toBe(0xc0ffee01);
    const pid = board.pid;
    await board.restart();
    expect(board.pid).not.toBe(pid);
    expect(existsSync(board.port)).toBe(true);
    // The line stays plugged in and reaches the restarted board by itself.
    let after: HelloInfo | null = null;
    for (let seq = 11; !after && seq < 40; seq++) after = await through.hello(seq).catch(() => null);
    expect({ ...after!, bootId: 0 }).toEqual({ ...before, session: 0, bootId: 0 });
    expect(after!.bootId).not.toBe(0);
    expect(after!.bootId).not.toBe(before.bootId);
    expect(await through.read(40, 7)).toBe(0n);
    expect(through.closed()).toBe(undefined);
    await through.transport.close();
  });

  it('a port open on the board itself sees it close at restart; the board is back at the same path', async () => {
    const b = await startBoard({ contexts: 2 });
    try {
      const a = await rawPort(b.port);
      expect(await a.open(1, 5)).toBe(FRAME.result);
      expect(await a.accum(2, 1, 9n)).toBe(FRAME.result);
      const before = await a.hello(3);
      await b.restart();
      await until('the old port to close', () => a.closed() !== undefined);
      const c = await rawPort(b.port);
      const after = await c.hello(4);
      expect([before.session, after.session, after.bootId === before.bootId]).toEqual([5, 0, false]);
      expect(await c.read(5, 1)).toBe(0n);
      await c.transport.close();
    } finally {
      await b.stop();
    }
  });

  it('stop ends the board for good: exited resolves and restart is refused', async () => {
    const b = await startBoard({ contexts: 2 });
    await b.stop();
    await b.exited;
    expect(existsSync(b.port)).toBe(false);
    const err = await failure(() => b.restart());
    expect([err.code, err.message]).toEqual(['ERR_ATOMIK_CLOSED', 'the host board was stopped']);
  });
});

describe.skipIf(noM3 !== null)(`restart on the cortex-m3 board${skipped(noM3)}`, () => {
  it('comes back at the same path with its state gone; boot id 0: QEMU gives it nothing to tell boots apart', async () => {
    const board = await startBoard({ board: 'cortex-m3' });
    try {
      const a = await rawPort(board.port);
      expect(await a.open(1, 77)).toBe(FRAME.result);
      expect(await a.accum(2, 3, 5n)).toBe(FRAME.result);
      const before = await a.hello(3);
      expect([before.protocol, before.name, before.session, before.bootId]).toEqual([2, 'cortex-m3', 77, 0]);
      await board.restart();
      await until('the old port to close', () => a.closed() !== undefined);
      const b = await rawPort(board.port);
      expect(await b.hello(4)).toEqual({ ...before, session: 0 });
      expect(await b.read(5, 3)).toBe(0n);
      await b.transport.close();
    } finally {
      await board.stop();
    }
  }, 60_000);
});

describe.skipIf(noRtl !== null)(`restart on the rtl board${noRtl ? ` (skipped: ${noRtl})` : ''}`, () => {
  it('comes back at the same path with its state gone (version 1: no session or boot id to show it)', async () => {
    const board = await startBoard({ board: 'rtl', contexts: 16, baud: RTL_TEST_BAUD });
    try {
      const a = await rawPort(board.port);
      expect(await a.accum(1, 3, 5n)).toBe(FRAME.result);
      expect(await a.read(2, 3)).toBe(5n);
      await board.restart();
      await until('the old port to close', () => a.closed() !== undefined);
      const b = await rawPort(board.port);
      expect([(await b.hello(3)).protocol, (await b.hello(4)).session]).toEqual([1, null]);
      expect(await b.read(5, 3)).toBe(0n);
      await b.transport.close();
    } finally {
      await board.stop();
    }
  }, 300_000);
});

describe.skipIf(noHost !== null)(`the firmware build cache${skipped(noHost)}`, () => {
  let cache: string;
  beforeAll(() => {
    cache = mkdtempSync(join(tmpdir(), 'atomik-cache-test-'));
  });
  afterAll(() => rmSync(cache, { recursive: true, force: true }));

  it('builds into <cacheDir>/<version>-<digest>, once, and reports each step', async () => {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const dir = buildCacheDir(cache);
    expect(dir).toMatch(new RegExp(`^${cache}/${version.replace(/\./g, '\\.')}-[0-9a-f]{12}$`));
    const seen: Progress[][] = [[], []];
    for (const events of seen) {
      const board = await startBoard({ cacheDir: cache, onProgress: (p) => events.push(p) });
      await board.stop();
      expect(events.at(-1)).toEqual({ task: 'build', done: 2, total: 2, message: `host board ready at ${board.port}` });
    }
    expect(seen.map((events) => events.slice(0, 2))).toEqual([
      [
        { task: 'build', done: 0, total: 2, message: 'building the host firmware (make -C firmware host)' },
        { task: 'build', done: 1, total: 2, message: 'starting the host board' },
      ],
      [
        { task: 'build', done: 0, total: 2, message: `host firmware up to date in ${dir}/atomik-host-board` },
        { task: 'build', done: 1, total: 2, message: 'starting the host board' },
      ],
    ]);
    expect(readdirSync(dir)).toEqual(['atomik-host-board']); // no scratch or lock left behind
  }, 60_000);

  it('a copy of the package in a read-only directory still starts a board, and nothing is written into it', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'atomik-readonly-'));
    try {
      const pkg = join(scratch, 'node_modules', 'atomik-node');
      mkdirSync(pkg, { recursive: true });
      for (const part of ['package.json', 'binding.gyp', 'README.md', 'dist', 'native']) cpSync(join(root, part), join(pkg, part), { recursive: true });
      cpSync(join(root, 'firmware'), join(pkg, 'firmware'), { recursive: true, filter: (src) => !src.startsWith(join(root, 'firmware', 'build')) });
      const { dependencies } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
      for (const dep of Object.keys(dependencies)) symlinkSync(join(root, 'node_modules', dep), join(scratch, 'node_modules', dep));
      const listing = () => readdirSync(pkg, { recursive: true }).map(String).sort();
      const files = listing();
      await promisify(execFile)('chmod', ['-R', 'a-w', pkg]);
      const script = join(scratch, 'start.mjs');
      writeFileSync(
        script,
        `import { startBoard } from 'atomik-node/board';\n` +
          `const board = await startBoard({ contexts: 3 });\n` +
          `console.log(board.port.endsWith('/tty') ? 'started' : board.port);\n` +
          `await board.stop();\n`,
      );
      // Root ignores permission bits: there, a read-only bind mount makes the copy truly read-only.
      const asRoot = process.getuid?.() === 0 && spawnSync('unshare', ['-m', 'true']).status === 0;
      const command = asRoot ? 'unshare' : process.execPath;
      const args = asRoot
        ? ['-m', 'sh', '-c', `mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && exec "$2" "$3"`, 'sh', pkg, process.execPath, script]
        : [script];
      const { stdout } = await promisify(execFile)(command, args, { cwd: scratch, env: { ...process.env, ATOMIK_CACHE_DIR: join(scratch, 'cache') } });
      expect(stdout).toBe('started\n');
      expect(listing()).toEqual(files);
      expect(readdirSync(join(scratch, 'cache'))).toHaveLength(1);
    } finally {
      await promisify(execFile)('chmod', ['-R', 'u+w', scratch]);
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 60_000);
});

describe.skipIf(noLine !== null)(`the hardware-in-the-loop example of docs/testing-hardware.md${skipped(noLine)}`, () => {
  it('runs as written, as a vitest file in a project of its own', async () => {
    const guide = readFileSync(join(root, 'docs/testing-hardware.md'), 'utf8');
    const section = guide.slice(guide.indexOf('## Hardware-in-the-loop tests for your own code'));
    const example = /```ts\n([\s\S]*?)```/.exec(section)![1]!;
    expect(example).toContain("from 'atomik-node/board'");
    const project = mkdtempSync(join(tmpdir(), 'atomik-hil-example-'));
    try {
      mkdirSync(join(project, 'node_modules'));
      symlinkSync(root, join(project, 'node_modules', 'atomik-node'));
      symlinkSync(join(root, 'node_modules', 'vitest'), join(project, 'node_modules', 'vitest'));
      writeFileSync(join(project, 'package.json'), '{ "type": "module" }\n');
      writeFileSync(join(project, 'counter.hil.test.ts'), example);
      const { stdout } = await promisify(execFile)(process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--root', project], {
        cwd: project,
        env: { ...process.env, CI: 'true', NO_COLOR: '1' },
      });
      expect(stdout).toMatch(/Tests {2}1 passed \(1\)/);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  }, 120_000);
});
