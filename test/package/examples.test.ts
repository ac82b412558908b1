// Every example runs with its exact expected output.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { missing } from '../helpers/tools.js';
import { redisSkipReason } from '../helpers/redis.js';
import { itUnless } from '../helpers/skip.js';
import { runScript } from '../helpers/cli.js';

const examples = fileURLToPath(new URL('../../examples/', import.meta.url));
const root = fileURLToPath(new URL('../../', import.meta.url));

async function example(name: string, ...args: string[]): Promise<string> {
  const env = { ...process.env };
  delete env.ATOMIK_PORT;
  return (await promisify(execFile)(process.execPath, [join(examples, name), ...args], { env })).stdout;
}

describe('examples a user can copy', () => {
  it('import the package by its name (atomik-node, atomik-node/board, ...), never a path into it', () => {
    for (const file of readdirSync(examples)) {
      const imports = [...readFileSync(join(examples, file), 'utf8').matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]!);
      expect(
        imports.filter((i) => !i.startsWith('node:') && !/^atomik-node(\/(board|serial|replicate|testing))?$/.test(i)),
        file,
      ).toEqual([]);
    }
  });

  it('one copied into an app of its own runs as it does here', async () => {
    const app = mkdtempSync(join(tmpdir(), 'atomik-app-'));
    try {
      mkdirSync(join(app, 'node_modules'));
      symlinkSync(root, join(app, 'node_modules', 'atomik-node'));
      copyFileSync(join(examples, 'counter.mjs'), join(app, 'counter.mjs'));
      const { stdout } = await promisify(execFile)(process.execPath, [join(app, 'counter.mjs')], { cwd: app });
      expect(stdout).toBe(await example('counter.mjs'));
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });

  it('speak of the patterns themselves, in the files and in what they print', async () => {
    for (const file of readdirSync(examples)) expect(readFileSync(join(examples, file), 'utf8'), file).not.toMatch(/seed/i);
    for (const name of ['counter.mjs', 'register.mjs', 'undo.mjs']) expect(await example(name), name).not.toMatch(/seed/i);
  });
});

describe('examples', () => {
  it('counter: xor does not count, add does, rollback undoes', async () => {
    expect(await example('counter.mjs')).toBe(
      [
        'three replicas count their own events and send each to the others, who hear them in different orders',
        'events: A +1 +1 +1 -1 | B +1 +1 | C -1 +1 +1 +1 +1  (true count 7)',
        'group xor:                   A=1 B=1 C=1  <- the replicas agree, but XOR does not count (+1 twice is 0)',
        'group add:                   A=7 B=7 C=7  <- every replica holds the true count',
        'after B rolls back one +1:   A=6 B=6 C=6',
        '',
      ].join('\n'),
    );
  });

  it('register: one writer converges, two writers mix, a context per writer does not', async () => {
    expect(await example('register.mjs')).toBe(
      [
        'one writer, 10 -> 20 -> 30, deltas heard in two orders: A=30 B=30 C=30',
        'A writes 40 while B writes 50 (both over 30): A=4 B=4 C=4  <- agreed, but 30^40^50 = 4: nobody wrote it',
        'a context per writer, every replica holds A 40, B 50, C nothing',
        "  rule \"the last writer in A, B, C order that wrote wins\": A reads 50 (B's), B reads 50 (B's), C reads 50 (B's)",
        'Concurrent writers of one value need an owner per context, or a CRDT register with a real merge rule.',
        '',
      ].join('\n'),
    );
  });

  it('undo: any past delta, no snapshot stack', async () => {
    expect(await example('undo.mjs')).toBe(
      [
        'flags: load 0x0001, edits 0x0010 0x0100 0x1000 0x0002 -> 0x1113',
        'undo edit 2 (0x0100):                     -> 0x1013',
        'undo edit 1 (0x0010):                     -> 0x1003',
        'balance: 1000 + 250 + 75 + 40 + 5 = 1370',
        'undo the 75 transfer:                     1295',
        'deltas applied: 5, memory: reference + accumulator = 16 bytes, no history kept',
        '',
      ].join('\n'),
    );
  });

  it('restart: a sender restarted from scratch is reported as restarted and its new messages count; one restored from its saved state loses none and doubles none', async () => {
    expect(await example('restart.mjs')).toBe(
      [
        'restarted from scratch       : sent 60, receiver counts 60; applied 60, duplicate 0, stale 0, restarted 2',
        'restored from its saved state: sent 60, receiver counts 60; applied 60, duplicate 10, stale 0, restarted 0',
        '',
      ].join('\n'),
    );
  });

  it('state sync across worker threads: duplicates break apply(), receive() is exact', async () => {
    const line = (group: string) =>
      `${group}: 4 replicas x 250 updates, 108 messages duplicated, every message reordered; apply(): 0/4 replicas exact; receive(): 4/4 exact, 0 with gaps`;
    expect(await example('state-sync.mjs')).toBe(`${line('xor')}\n${line('add')}\n`);
    await expect(example('state-sync.mjs', '1')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('usage: node examples/state-sync.mjs [workers: 2..255]'),
    });
  });

  itUnless(missing('make', 'cc'), 'hardware: the counter on a virtual board; a bad port is one clear line and exit 1', async () => {
    expect(await example('hardware.mjs')).toBe(
      'virtual host board (framed dialect, add group): 11 events -> count 7\n' +
        'no real board given: pass its port (node examples/hardware.mjs /dev/ttyUSB0) or set ATOMIK_PORT\n',
    );
    const bad = await runScript(join(examples, 'hardware.mjs'), ['/dev/nonexistent'], { ...process.env, ATOMIK_PORT: '' });
    expect([bad.code, bad.stdout]).toEqual([1, 'virtual host board (framed dialect, add group): 11 events -> count 7\n']);
    expect(bad.stderr).toMatch(/^board on \/dev\/nonexistent: ERR_ATOMIK_DEVICE: cannot open \/dev\/nonexistent: No such file or directory\n$/);
  });

  itUnless(redisSkipReason(), 'replicas: three processes through Redis, one killed and restarted, exact totals', async () => {
    const env = { ...process.env };
    delete env.REDIS_URL;
    const out = (await promisify(execFile)(process.execPath, [fileURLToPath(new URL('../../examples/replicas.mjs', import.meta.url))], { env })).stdout;
    const lines = out.split('\n');
    expect(lines[0]).toBe('REDIS_URL not set: started a private redis-server (appendfsync always)');
    const acked = Number(/^killed process B \(kill -9\) after Redis had acknowledged ([\d,]+) of its requests$/.exec(lines[1]!)![1]!.replace(/,/g, ''));
    expect(acked).toBeGreaterThanOrEqual(5000);
    expect(lines[2]).toBe('started B again: it takes a new origin id and serves 20,000 more');
    const served = /^requests served, as every replica counts them: A 30000, B before the kill (\d+) \(>= (\d+) acknowledged\), C 30000, B again 20000$/.exec(
      lines[3]!,
    )!;
    const beforeKill = Number(served[1]);
    expect(beforeKill).toBeGreaterThanOrEqual(acked);
    const perRoute = lines[4]!.split(', ').map((part) => Number(part.split(' ')[1]));
    expect(perRoute).toHaveLength(8);
    const total = 80_000 + beforeKill;
    expect(perRoute.reduce((a, b) => a + b, 0)).toBe(total);
    expect(lines[5]).toBe(`all 3 live replicas agree; per-route total ${total} = requests served ${total}: exact`);
  });
});
