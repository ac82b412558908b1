// The PN-counter on hardware: +1 and -1 events counted by the board itself,
// first on a virtual board started here, then on a real board when its port
// is given. The host only sends deltas and reads the count.
//   node examples/hardware.mjs [port]      (or ATOMIK_PORT=/dev/ttyUSB0)
import { open } from 'atomik-node';
import { startBoard } from 'atomik-node/board';

const events = [1, 1, 1, -1, 1, 1, -1, 1, 1, 1, 1]; // true count 7
const failure = (err) => (err.code ? `${err.code}: ${err.message}` : err.message);

async function count(label, options) {
  // The framed protocol has the add group; the official FPGA one only xor.
  const probe = await open({ backend: 'serial', ...options });
  const dialect = probe.info.serial.dialect;
  await probe.close();
  const group = dialect === 'framed' ? 'add' : 'xor';
  const acc = await open({ backend: 'serial', ...options, group });
  await acc.load(0, 0n);
  // In the add group -1n is a decrement; the xor group takes -1 as the 64-bit word 2^64 - 1.
  await Promise.all(events.map((e) => acc.accum(0, group === 'add' ? BigInt(e) : BigInt.asUintN(64, BigInt(e)))));
  const value = await acc.read(0);
  const shown = BigInt.asIntN(64, value); // read as a signed count
  console.log(
    `${label} (${dialect} dialect, ${group} group): ${events.length} events -> count ${shown}${group === 'xor' ? ' (XOR cannot count: use a board with our firmware)' : ''}`,
  );
  await acc.close();
}

try {
  const board = await startBoard();
  try {
    await count('virtual host board', { port: board.port, lock: false });
  } finally {
    await board.stop();
  }
} catch (err) {
  console.log(`no virtual board here: ${failure(err)}`);
}

const port = process.argv[2] ?? process.env.ATOMIK_PORT;
if (port) {
  await count(`board on ${port}`, { port }).catch((err) => {
    console.error(`board on ${port}: ${failure(err)}`);
    process.exitCode = 1;
  });
} else {
  console.log('no real board given: pass its port (node examples/hardware.mjs /dev/ttyUSB0) or set ATOMIK_PORT');
}
