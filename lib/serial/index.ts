// atomik-node/serial: the serial backend and the port tools under it. Most
// applications only need open({ port }) from the main entry.
export { SerialBackend, type SerialOptions, type SerialInfo } from '../backend/serial.js';
export { probe, type Dialect, type ProbeResult } from './probe.js';
export { listPorts, findBoards, KNOWN_BOARDS, type ListedPort } from './discover.js';
export { openSerialTransport, type Transport, type SerialTransportOptions } from './transport.js';
export type { HelloInfo } from './frame.js';
export { DeviceError, type Unconfirmed } from '../errors.js';
