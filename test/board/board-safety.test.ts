// The board kit handed to anyone: link paths that cannot become commands or
// replace a user's file, no process that outlives its board's owner (kill -9
// included), a program that cannot start or a throwing listener reported as an
// error with nothing left running, and build locks of killed builds taken over.
import { spawn } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBoard } from '../../lib/board/index.js';
import { buildCacheDir, cachedBuild } from '../../lib/board/build-cache.js';
import { emulate } from '../helpers/cli.js';
import { describeUnless } from '../helpers/skip.js';
import { rejected as failure } from '../helpers/errors.js';
import { missing } from '../helpers/tools.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const noHost = missing('make', 'cc');
const noM3 = noHost ?? missing('arm-none-eabi-gcc', 'qemu-system-arm', 'socat');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Live processes (zombies count as gone) as [pid, parent pid, command line]. */
function processes(): [number, number, string][] {
  const list: [number, number, string][] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z' || state === 'X') continue;
      list.push([Number(name), Number(ppid), readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ').trim()]);
    } catch {
      // ended while we looked
    }
  }
  return list;
}

/** Every live descendant of `pid`. */
function descendants(pid: number): [number, string][] {
  const all = processes();
  const found: [number, string][] = [];
  const walk = (parent: number) => {
    for (const [p, pp, cmd] of all) {
      if (pp === parent) {
        found.push([p, cmd]);
        walk(p);
      }
    }
  };
  walk(pid);
  return found;
}

const alive = (pid: number) => processes().some(([p]) => p === pid);

async function allGone(pids: number[], timeoutMs = 5000): Promise<number[]> {
  const end = Date.now() + timeoutMs;
  let left = pids;
  while ((left = left.filter(alive)).length && Date.now() < end) await sleep(50);
  return left;
}

describe('startBoard link paths', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'atomik-link-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses every character that socat or QEMU would read, on every board, before anything runs', async () => {
    for (const bad of ['p!!SYSTEM:touch pwned', 'a:b', 'a,b', 'a b', "a'b", 'a"b', 'a{b}', 'a[b]', 'a\\b', 'a%b', 'a;b', 'a$b', 'tty\n']) {
      for (const board of ['host', 'cortex-m3', 'rtl'] as const) {
        const err = await failure(() => startBoard({ board, link: join(dir, bad) }));
        expect([err.code, err.message]).toEqual([
          'ERR_ATOMIK_INVALID_ARG_VALUE',
          `options.link may hold only letters, digits and _ . / + @ = -, got ${JSON.stringify(join(dir, bad))}`,
        ]);
      }
    }
    expect(readdirSync(dir)).toEqual([]); // nothing made, nothing run
  });

  it('refuses a link in a directory that does not exist', async () => {
    const link = join(dir, 'missing', 'tty');
    const err = await failure(() => startBoard({ link }));
    expect([err.code, err.message]).toEqual(['ERR_ATOMIK_INVALID_ARG_VALUE', `options.link ${link}: the directory ${join(dir, 'missing')} does not exist`]);
  });

  it("never replaces a file, a directory or a link that is not a board's", async () => {
    const notes = join(dir, 'notes.txt');
    writeFileSync(notes, 'keep me');
    const folder = join(dir, 'folder');
    mkdirSync(folder);
    const elsewhere = join(dir, 'to-notes');
    symlinkSync(notes, elsewhere);
    const dangling = join(dir, 'dangling');
    symlinkSync(join(dir, 'nothing'), dangling);
    for (const link of [notes, folder, elsewhere, dangling]) {
      const err = await failure(() => startBoard({ link }));
      expect([err.code, err.message]).toEqual([
        'ERR_ATOMIK_INVALID_ARG_VALUE',
        `options.link ${link} exists and is not a board's link to a pseudo-terminal; it is left untouched`,
      ]);
    }
    expect(readFileSync(notes, 'utf8')).toBe('keep me');
    expect(lstatSync(folder).isDirectory()).toBe(true);
    expect([readlinkSync(elsewhere), readlinkSync(dangling)]).toEqual([notes, join(dir, 'nothing')]);
  });

  it('refuses unknown options, naming the nearest', async () => {
    const err = await failure(() => startBoard({ contxts: 4 } as object));
    expect([err.code, err.message]).toEqual([
      'ERR_ATOMIK_INVALID_ARG_VALUE',
      'options.contxts is not an option (did you mean contexts?); the options are board, legacy, baud, contexts, link, cacheDir, onProgress',
    ]);
  });

  describeUnless(noHost, 'on the host board', () => {
    it('takes over the link a killed board left behind, and resolves a relative link to an absolute port', async () => {
      const stale = join(dir, 'stale-tty');
      symlinkSync('/dev/pts/4242', stale);
      const board = await startBoard({ link: stale });
      try {
        expect(board.port).toBe(stale);
        expect(readlinkSync(stale)).toMatch(/^\/dev\/pts\/\d+$/);
        expect(readlinkSync(stale)).not.toBe('/dev/pts/4242');
      } finally {
        await board.stop();
      }
      const cwd = process.cwd();
      process.chdir(dir);
      try {
        const relative = await startBoard({ link: 'here-tty' });
        expect(relative.port).toBe(join(dir, 'here-tty'));
        await relative.stop();
      } finally {
        process.chdir(cwd);
      }
    }, 60_000);
  });
});

describeUnless(noM3, 'a temporary directory that QEMU or socat would misread', () => {
  it('is refused for the cortex-m3 board, which hands it to them; the host board does not mind it', async () => {
    const odd = mkdtempSync(join(tmpdir(), 'atomik,odd '));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = odd;
    try {
      const err = await failure(() => startBoard({ board: 'cortex-m3' }));
      expect(err.code).toBe('ERR_ATOMIK_INVALID_ARG_VALUE');
      expect(err.message).toMatch(
        new RegExp(`^the temporary directory \\(TMPDIR\\) may hold only letters, digits and _ \\. / \\+ @ = -, got "${odd}/atomik-cortex-m3-\\w{6}"$`),
      );
      const host = await startBoard();
      expect(host.port.startsWith(odd)).toBe(true);
      await host.stop();
      expect(readdirSync(odd)).toEqual([]); // nothing left behind by either
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      rmSync(odd, { recursive: true, force: true });
    }
  }, 60_000);
});

describeUnless(noHost, 'a board that cannot start, or a listener that throws', () => {
  it('a cached board program that cannot run is a coded error, not an unhandled error event', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'atomik-cache-'));
    try {
      const program = join(buildCacheDir(cache), 'atomik-host-board');
      mkdirSync(program); // a directory where the program should be, as a broken cache may hold
      const err = await failure(() => startBoard({ cacheDir: cache }));
      expect([err.code, err.message]).toEqual(['ERR_ATOMIK_MISSING_TOOL', `cannot run ${program}: EACCES`]);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it('a throwing onProgress at the ready step rejects startBoard and leaves no board running', async () => {
    const link = join(mkdtempSync(join(tmpdir(), 'atomik-ready-')), 'tty');
    const boom = new Error('listener failed');
    const err = await failure(() =>
      startBoard({
        link,
        onProgress: (p) => {
          if (p.message.includes('ready')) throw boom;
        },
      }),
    );
    expect(err).toBe(boom);
    expect(processes().filter(([, , cmd]) => cmd.includes(link))).toEqual([]);
    expect(existsSync(link)).toBe(false);
  }, 60_000);
});

describeUnless(noHost, 'kill -9 of the program that started a board', () => {
  const cases: [string, string | null, string[], RegExp[]][] = [
    ['host', noHost, [], [/atomik-host-board/]],
    ['cortex-m3', noM3, ['--board', 'cortex-m3'], [/^qemu-system-arm/, /^socat/]],
  ];
  for (const [board, skip, args, expected] of cases) {
    describeUnless(skip, `atomik-node emulate ${args.join(' ')}`, () => {
      it('takes every process of the board with it', async () => {
        const { child } = await emulate(...args);
        const mine = descendants(child.pid!);
        for (const pattern of expected)
          expect(
            mine.some(([, cmd]) => pattern.test(cmd)),
            `${board}: ${pattern}`,
          ).toBe(true);
        child.kill('SIGKILL');
        expect(await allGone(mine.map(([pid]) => pid))).toEqual([]);
      }, 120_000);
    });
  }
});

describeUnless(noHost ?? missing('socat'), 'kill -9 of a program using the board kit', () => {
  it('takes its board and its fault line with it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomik-owner-'));
    const script = join(dir, 'owner.mjs');
    writeFileSync(
      script,
      `import { startBoard, startFaultLine } from ${JSON.stringify(pathToFileURL(join(root, 'dist', 'board.js')).href)};\n` +
        `const board = await startBoard();\n` +
        `await startFaultLine(board.port);\n` +
        `console.log('READY');\n` +
        `setInterval(() => {}, 1000);\n`,
    );
    const owner = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        owner.stdout.on('data', (d: Buffer) => d.toString().includes('READY') && resolve());
        owner.once('exit', () => reject(new Error('the owner exited early')));
      });
      const mine = descendants(owner.pid!);
      expect([/atomik-host-board/, /^socat /].map((pattern) => mine.some(([, cmd]) => pattern.test(cmd)))).toEqual([true, true]);
      owner.kill('SIGKILL');
      expect(await allGone(mine.map(([pid]) => pid))).toEqual([]);
    } finally {
      owner.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('build locks', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'atomik-lock-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const build = (name: string) => async (scratch: string) => {
    writeFileSync(join(scratch, name), name);
    return join(scratch, name);
  };

  it('a lock left by a killed build (its pid gone) is taken over at once', async () => {
    const dead = spawn('true');
    await new Promise((r) => dead.once('exit', r));
    const path = join(dir, 'after-kill');
    mkdirSync(`${path}.lock`);
    writeFileSync(join(`${path}.lock`, 'owner'), `${dead.pid} ${hostname()}\n`);
    const waited: number[] = [];
    expect(await cachedBuild(path, build('after-kill'), (pid) => waited.push(pid))).toEqual({ path, built: true });
    expect([readFileSync(path, 'utf8'), waited, readdirSync(dir)]).toEqual(['after-kill', [], ['after-kill']]);
  });

  it('a lock held by a live build is waited for, and the wait is reported once', async () => {
    const owner = spawn('sleep', ['30']);
    const path = join(dir, 'while-building');
    mkdirSync(`${path}.lock`);
    writeFileSync(join(`${path}.lock`, 'owner'), `${owner.pid} ${hostname()}\n`);
    const waited: number[] = [];
    const result = cachedBuild(path, build('while-building'), (pid) => waited.push(pid));
    await sleep(1000);
    expect([existsSync(path), waited]).toEqual([false, [owner.pid]]);
    owner.kill('SIGKILL'); // the build dies: its lock is taken over
    expect(await result).toEqual({ path, built: true });
    expect(waited).toEqual([owner.pid]);
  });

  it('a lock with no owner to check is taken over once it is 10 minutes old', async () => {
    const path = join(dir, 'ownerless');
    mkdirSync(`${path}.lock`);
    const old = (Date.now() - 601_000) / 1000;
    utimesSync(`${path}.lock`, old, old);
    expect(await cachedBuild(path, build('ownerless'))).toEqual({ path, built: true });
  });
});
