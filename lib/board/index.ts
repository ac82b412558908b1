// atomik-node/board: virtual boards and a fault-injecting line, for
// hardware-in-the-loop tests of your own code without hardware.
export { startBoard, type BoardKind, type BoardOptions, type VirtualBoard } from './emulate.js';
export { startFaultProxy, NO_FAULTS, type Faults, type FaultStats, type FaultProxy } from './fault-line.js';
