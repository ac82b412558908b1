// `npm start` (the quick start's main job) runs and reports agreement.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { missing } from '../helpers/tools.js';
import { itUnless } from '../helpers/skip.js';
import { runScript } from '../helpers/cli.js';

itUnless(missing('make', 'cc'), 'the demo runs on the engine and on a virtual board, and they agree', async () => {
  const demo = fileURLToPath(new URL('../../examples/demo.mjs', import.meta.url));
  const env = { ...process.env };
  delete env.ATOMIK_PORT;
  const { stdout } = await promisify(execFile)(process.execPath, [demo], { env });
  expect(stdout).toMatch(/^no ATOMIK_PORT set: started a virtual host board on \S+\n/);
  expect(stdout.match(/counter: {2}five \+1 -> xor group reads 1 \(XOR cannot count\); add group reads 4 after one decrement/g)).toHaveLength(2);
  expect(stdout.match(/register: 100 -> 250 -> 7 -> 42 as deltas, reads 42; swap\(\) snapshots 42/g)).toHaveLength(2);
  expect(stdout.match(/XOR of all states = 0x2208f1372efd5000/g)).toHaveLength(2);
  expect(stdout.trimEnd().split('\n').at(-1)).toBe('Same operations, same states: in process and on the board.');
  expect(stdout).toMatch(/^=== in process \((native|js)\): /m);
  expect(stdout).not.toMatch(/seed/i);
});

it('with ATOMIK_PORT naming no board, the in-process half still runs in process, and the board is one clear line and exit 1', async () => {
  const demo = fileURLToPath(new URL('../../examples/demo.mjs', import.meta.url));
  const r = await runScript(demo, [], { ...process.env, ATOMIK_PORT: '/dev/nonexistent' });
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/^=== in process \((native|js)\): \1 requested \(options.backend='\1'\)\n/);
  expect(r.stdout).toContain('counter:  five +1 -> xor group reads 1 (XOR cannot count); add group reads 4 after one decrement\n');
  expect(r.stdout).not.toContain('Same operations');
  expect(r.stderr).toMatch(
    /^board \/dev\/nonexistent: ERR_ATOMIK_DEVICE: cannot open \/dev\/nonexistent: No such file or directory \(ATOMIK_PORT names it: set it to a board, or unset it for a virtual one\)\n$/,
  );
});
