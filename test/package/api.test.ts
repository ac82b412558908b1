// The public surface as a user meets it: the built package's entries, by
// import and by require. The checked-in api-report.json must match the
// build (npm run api:report rewrites it), one copy of every class serves
// both module systems and every entry, and importing the package does not
// load the serial driver.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ENTRIES, apiOf, checkedIn } from '../../scripts/api-report.js';

const dist = (file: string) => fileURLToPath(new URL(`../../dist/${file}`, import.meta.url));

describe('public API', () => {
  it('matches api-report.json (run npm run api:report after a deliberate change)', () => {
    expect(apiOf()).toEqual(checkedIn());
  });

  // Run in a plain Node process, as a user's program would (the test runner has its own module loader).
  const inNode = (code: string): unknown =>
    JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: fileURLToPath(new URL('../../dist/', import.meta.url)) }).toString());

  it('import and require of every entry give the same objects, with their own names', () => {
    const runtime = Object.fromEntries(
      Object.entries(checkedIn()).map(([entry, names]) => [entry, Object.keys(names).filter((n) => ['class', 'function', 'const'].includes(names[n]!))]),
    );
    const seen = inNode(`
            const { createRequire } = await import('node:module');
      const require = createRequire(import.meta.url);
      const out = {};
      for (const [entry, file] of Object.entries(${JSON.stringify(ENTRIES)})) {
        const esm = await import('./' + file + '.js');
        const cjs = require('./' + file + '.cjs');
        out[entry] = Object.keys(esm).sort().map((n) => [n, esm[n] === cjs[n], typeof esm[n] === 'function' ? esm[n].name : null]);
      }
      console.log(JSON.stringify(out));`) as Record<string, [string, boolean, string | null][]>;
    for (const [entry, names] of Object.entries(runtime)) {
      expect(
        seen[entry]!.map(([n]) => n),
        entry,
      ).toEqual(names);
      for (const [name, same, fnName] of seen[entry]!) {
        expect(same, `${entry} ${name}: one object for import and require`).toBe(true);
        if (fnName !== null) expect(fnName, `${entry} ${name}.name`).toBe(name);
      }
    }
  });

  it('instanceof holds across module systems and entries', () => {
    expect(
      inNode(`
                const { createRequire } = await import('node:module');
        const require = createRequire(import.meta.url);
        const esm = await import('./index.js');
        const cjs = require('./index.cjs');
        const serial = require('./serial.cjs');
        let err;
        try { new esm.AtomikTable(2).read(5); } catch (e) { err = e; }
        console.log(JSON.stringify([
          new esm.DeltaMessage(1, 2n, 0, 3) instanceof cjs.DeltaMessage,
          new cjs.AtomikContext() instanceof esm.AtomikContext,
          new serial.DeviceError('x') instanceof esm.AtomikError,
          err instanceof cjs.AtomikRangeError && err instanceof RangeError,
          String(err),
          err.code,
        ]));`),
    ).toEqual([true, true, true, true, 'AtomikRangeError: index 5 is out of range [0, 2)', 'ERR_ATOMIK_INDEX_OUT_OF_RANGE']);
  });

  it('the main entry does not load the serial driver; opening a serial backend would', () => {
    const loaded = (entry: string) =>
      execFileSync(process.execPath, [
        '--input-type=module',
        '-e',
        `await import(${JSON.stringify(dist(entry))});
         const { createRequire } = await import('node:module');
         const cache = createRequire(import.meta.url).cache;
         console.log(Object.keys(cache).some((k) => k.includes('/node_modules/serialport/')));`,
      ])
        .toString()
        .trim();
    expect(loaded('index.js')).toBe('false');
    expect(loaded('serial.js')).toBe('false'); // even the serial entry loads it only when a port is opened
  });
});
