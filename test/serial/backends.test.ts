// The backend conformance suite against every backend: the in-process
// engines, the virtual boards (host framed, host legacy, Cortex-M3 under
// QEMU, our RTL under Verilator) and a real board when ATOMIK_TEST_PORT names one.
import { afterAll, beforeAll } from 'vitest';
import { open, type Group } from '../../lib/index.js';
import { startBoard, type VirtualBoard } from '../../lib/board/index.js';
import { backendSuite, type BackendTarget } from '../helpers/backend-suite.js';
import { RTL_TEST_BAUD, noRtl } from '../helpers/boards.js';
import { ENGINES } from '../helpers/engines.js';
import { missing } from '../helpers/tools.js';

for (const { name, skipReason } of ENGINES) {
  backendSuite({ name, skip: skipReason, groups: ['xor', 'add'], open: (group) => open({ backend: name, group, contexts: 64 }) });
}

function boardTarget(name: string, skip: string | null, start: () => Promise<VirtualBoard>, groups: Group[]): BackendTarget {
  let board: VirtualBoard | null = null;
  const target: BackendTarget = {
    name,
    skip,
    groups,
    open: async (group) => {
      board ??= await start();
      return open({ backend: 'serial', port: board.port, group, lock: false });
    },
  };
  if (!skip) afterAll(async () => board?.stop());
  return target;
}

const noCompiler = missing('make', 'cc');
backendSuite(boardTarget('host board, framed', noCompiler, () => startBoard(), ['xor', 'add']));
backendSuite(boardTarget('host board, legacy (official FPGA protocol)', noCompiler, () => startBoard({ legacy: true }), ['xor']));
const noM3 = missing('make', 'arm-none-eabi-gcc', 'qemu-system-arm', 'socat');
backendSuite(boardTarget('Cortex-M3 board under QEMU', noM3, () => startBoard({ board: 'cortex-m3' }), ['xor', 'add']));
backendSuite(boardTarget('rtl board under Verilator, framed', noRtl, () => startBoard({ board: 'rtl', baud: RTL_TEST_BAUD }), ['xor', 'add']));
backendSuite(
  boardTarget('rtl board under Verilator, legacy (official FPGA protocol)', noRtl, () => startBoard({ board: 'rtl', legacy: true, baud: RTL_TEST_BAUD }), [
    'xor',
  ]),
);

const realPort = process.env.ATOMIK_TEST_PORT;
let realGroups: Group[] = ['xor', 'add'];
beforeAll(async () => {
  if (!realPort) return;
  const acc = await open({ backend: 'serial', port: realPort });
  if (acc.info.serial?.dialect === 'legacy') realGroups = ['xor'];
  await acc.close();
});
backendSuite({
  name: `real board ${realPort ?? ''}`.trim(),
  skip: realPort ? null : 'ATOMIK_TEST_PORT is not set',
  get groups() {
    return realGroups;
  },
  open: (group) => open({ backend: 'serial', port: realPort!, group }),
});
