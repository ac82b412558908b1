// atomik-node/serial: the serial backend and the port tools under it. Most
// applications only need open({ port }) from the main entry.
export { openSerialBackend, checkSerialOptions, type SerialBackend, type SerialOptions } from './open-board.js';
export { FramedBackend } from '../backend/framed.js';
export { LegacyBackend } from '../backend/legacy.js';
export type { SerialInfo, LinkStats, HelloInfo, Dialect } from '../backend/device.js';
export type { ReconnectOptions } from './framed/session.js';
export { createTransportPair, type TransportPair, type MemoryTransportOptions } from './memory-transport.js';
export { probe, type ProbeResult, type ProbeOptions } from './probe.js';
export { listPorts, findBoards, KNOWN_BOARDS, type ListedPort } from './discover.js';
export { openSerialTransport, type Transport, type SerialTransportOptions } from './transport.js';
export { DeviceError, type Unconfirmed } from '../core/errors.js';
