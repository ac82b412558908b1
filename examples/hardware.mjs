// The counter pattern on hardware: first on a virtual board started here,
// then on a real board when its port is given. The board does the
// accumulating; the host only sends deltas and reads the count.
//   node examples/hardware.mjs [port]      (or ATOMIK_PORT=/dev/ttyUSB0)
import { open } from '../dist/index.js';
import { startBoard } from '../dist/board.js';

const events = [1, 1, 1, -1, 1, 1, -1, 1, 1, 1, 1]; // true count 7
const MINUS_ONE = (1n << 64n) - 1n;

async function count(label, options) {
  // The framed protocol has the add group; the official FPGA one only xor.
  const probe = await open({ backend: 'serial', ...options });
  const dialect = probe.info.serial.dialect;
  await probe.close();
  const group = dialect === 'framed' ? 'add' : 'xor';
  const acc = await open({ backend: 'serial', ...options, group });
  await acc.load(0, 0n);
  await Promise.all(events.map((e) => acc.accum(0, e > 0 ? 1n : MINUS_ONE)));
  const value = await acc.read(0);
  const shown = value > 1n << 63n ? -((1n << 64n) - value) : value;
  console.log(
    `${label} (${dialect} dialect, ${group} group): ${events.length} events -> count ${shown}${group === 'xor' ? ' (XOR cannot count: use a board with our firmware)' : ''}`,
  );
  await acc.close();
}

const board = await startBoard();
await count('virtual host board', { port: board.port, lock: false });
await board.stop();

const port = process.argv[2] ?? process.env.ATOMIK_PORT;
if (port) await count(`board on ${port}`, { port });
else console.log('no real board given: pass its port (node examples/hardware.mjs /dev/ttyUSB0) or set ATOMIK_PORT');
