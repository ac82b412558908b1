// atomik-node/board: virtual boards and a fault-injecting line, for
// hardware-in-the-loop tests of your own code without hardware.
export { startBoard, type BoardKind, type BoardOptions, type VirtualBoard } from './emulate.js';
export { startFaultLine, NO_FAULTS, type Faults, type FaultLineOptions, type FaultStats, type FaultLine } from './fault-line.js';
