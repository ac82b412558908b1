// `npm start` (the quick start's main job) runs and reports agreement.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { missing } from '../helpers/tools.js';
import { itUnless } from '../helpers/skip.js';

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
});
