// Opening a serial board is as robust as the link: the probe, HELLO and
// OPEN are asked again within one deadline, so a line that drops,
// duplicates and flips 0.2% of the bytes each way never fails an open.
// Every way opening can fail is a DeviceError with a deviceCode.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DeviceError, open } from '../../lib/index.js';
import { startBoard, startFaultLine, type FaultLine, type VirtualBoard } from '../../lib/board/index.js';
import { missing } from '../helpers/tools.js';
import { describeUnless } from '../helpers/skip.js';

const noLine = missing('make', 'cc') ?? missing('socat');
const NOISE = { drop: 0.002, duplicate: 0.002, flip: 0.002 };
const SEEDS = 100;

const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected the open to fail');
    },
    (err: unknown) => err as DeviceError,
  );

describeUnless(noLine, 'opening through a line damaging 0.2% of bytes each way', () => {
  let board: VirtualBoard;
  beforeAll(async () => {
    board = await startBoard({ contexts: 8 });
  });
  afterAll(async () => {
    await board?.stop();
  });

  it(`succeeds for each of ${SEEDS} line seeds, framed and auto alike, with exact states after`, async () => {
    let retried = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const line = await startFaultLine(board.port, { seed, ...NOISE });
      try {
        const dialect = seed % 2 === 0 ? 'framed' : 'auto';
        const acc = await open({ backend: 'serial', port: line.port, lock: false, dialect, baudRate: 4_000_000 });
        try {
          expect(acc.info.serial!.dialect).toBe('framed');
          await acc.load(1, BigInt(seed));
          await acc.accum(1, 0xf0n);
          expect(await acc.read(1)).toBe(BigInt(seed) ^ 0xf0n);
        } finally {
          await acc.close();
        }
        if (line.stats.dropped + line.stats.duplicated + line.stats.flipped > 0) retried++;
      } finally {
        await line.stop();
      }
    }
    expect(retried).toBeGreaterThan(SEEDS / 10); // the line really damaged opens
  }, 600_000);
});

describeUnless(noLine, 'every failure to open has a code and a deviceCode', () => {
  let framed: VirtualBoard;
  let legacy: VirtualBoard;
  let behindDead: VirtualBoard;
  let dead: FaultLine;
  beforeAll(async () => {
    framed = await startBoard({ contexts: 4 });
    legacy = await startBoard({ legacy: true });
    behindDead = await startBoard({ contexts: 4 });
    dead = await startFaultLine(behindDead.port, { drop: 1 });
  });
  afterAll(async () => {
    await dead?.stop();
    await behindDead?.stop();
    await framed?.stop();
    await legacy?.stop();
  });

  it('a port that cannot be opened: NO_PORT', async () => {
    const err = await failure(open({ backend: 'serial', port: '/dev/atomik-no-such-port', lock: false }));
    expect(err).toBeInstanceOf(DeviceError);
    expect(err.code).toBe('ERR_ATOMIK_DEVICE');
    expect(err.deviceCode).toBe('NO_PORT');
    expect(err.message).toMatch(/^cannot open \/dev\/atomik-no-such-port/);
  });

  for (const dialect of ['framed', 'legacy', 'auto'] as const) {
    it(`a line that carries nothing, dialect ${dialect}: NO_ANSWER once openTimeoutMs passed`, async () => {
      const started = performance.now();
      const err = await failure(open({ backend: 'serial', port: dead.port, lock: false, dialect, openTimeoutMs: 600, probeTimeoutMs: 50 }));
      expect(performance.now() - started).toBeGreaterThanOrEqual(590);
      expect(err).toBeInstanceOf(DeviceError);
      expect(err.code).toBe('ERR_ATOMIK_DEVICE');
      expect(err.deviceCode).toBe('NO_ANSWER');
      expect(err.unconfirmed).toEqual([]);
    });
  }

  it('an official board asked for the framed dialect: NO_ANSWER', async () => {
    const err = await failure(open({ backend: 'serial', port: legacy.port, lock: false, dialect: 'framed', openTimeoutMs: 500, probeTimeoutMs: 50 }));
    expect(err.code).toBe('ERR_ATOMIK_DEVICE');
    expect(err.deviceCode).toBe('NO_ANSWER');
    expect(err.message).toBe(`no framed-protocol device answered the hello probe on ${legacy.port}`);
  });

  it('an official board asked for the add group: BAD_GROUP; a framed board with too few contexts: a RangeError', async () => {
    const err = await failure(open({ backend: 'serial', port: legacy.port, lock: false, group: 'add' }));
    expect(err.code).toBe('ERR_ATOMIK_DEVICE');
    expect(err.deviceCode).toBe('BAD_GROUP');
    await expect(open({ backend: 'serial', port: framed.port, lock: false, contexts: 5 })).rejects.toMatchObject({ code: 'ERR_ATOMIK_OUT_OF_RANGE' });
  });
});
