// The virtual boards of each dialect, for the tests that run on each of them.
import { startBoard, type VirtualBoard } from '../../lib/board/index.js';
import { missing } from './tools.js';

/**
 * The rtl board's UART runs at 16 clocks a bit in the tests (27 MHz /
 * 1,687,500 baud), so the simulation outruns the host; on the board it is
 * 234 (115200 baud). The RTL unit tests (make rtl-test) use 16 as well.
 */
export const RTL_TEST_BAUD = 1_687_500;

export const noRtl = missing('make', 'verilator', 'g++');

export interface LegacyBoard {
  name: string;
  skip: string | null;
  start(options?: { link?: string }): Promise<VirtualBoard>;
}

const noHost = missing('make', 'cc');

export const LEGACY_BOARDS: LegacyBoard[] = [
  { name: 'host board', skip: noHost, start: (o = {}) => startBoard({ legacy: true, ...o }) },
  { name: 'rtl board', skip: noRtl, start: (o = {}) => startBoard({ board: 'rtl', legacy: true, baud: RTL_TEST_BAUD, ...o }) },
];

export interface FramedBoard {
  name: string;
  skip: string | null;
  start(contexts: number): Promise<VirtualBoard>;
  /** The line rate the client assumes (its timeouts grow with the time bytes need on the line). */
  baudRate: number;
  /**
   * The ceiling a backed-off timeout may grow to under faults (open's
   * timeoutMs). The simulated rtl board stalls for hundreds of ms when the
   * machine is loaded; a low ceiling then resends into the stall and the
   * resends themselves keep it behind.
   */
  faultTimeoutMs: number;
}

export const FRAMED_BOARDS: FramedBoard[] = [
  { name: 'host board', skip: noHost, start: (contexts) => startBoard({ contexts }), baudRate: 4_000_000, faultTimeoutMs: 25 },
  {
    name: 'rtl board',
    skip: noRtl,
    start: (contexts) => startBoard({ board: 'rtl', contexts, baud: RTL_TEST_BAUD }),
    baudRate: RTL_TEST_BAUD,
    faultTimeoutMs: 500,
  },
];
