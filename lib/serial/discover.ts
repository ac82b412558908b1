// Serial port discovery. Listing never writes to a port; boards are marked
// by USB VID:PID only.
import { loadSerialPort, type PortInfo } from './transport.js';

/** USB ids of known ATOMiK boards. */
export const KNOWN_BOARDS: Record<string, string> = {
  '0403:6010': 'Tang Nano 9K (FTDI FT2232, official ATOMiK FPGA design)',
};

export interface ListedPort extends PortInfo {
  /** Set when the VID:PID identifies an ATOMiK board. */
  board?: string;
}

function usbId(p: PortInfo): string | null {
  return p.vendorId && p.productId ? `${p.vendorId.toLowerCase()}:${p.productId.toLowerCase()}` : null;
}

/** Lists serial ports; rejects with a clear Error when listing is impossible (no udevadm, ...). */
export async function listPorts(usbIds: string[] = Object.keys(KNOWN_BOARDS)): Promise<ListedPort[]> {
  const serialport = loadSerialPort();
  if (serialport instanceof Error) throw serialport;
  let ports: PortInfo[];
  try {
    ports = await serialport.list();
  } catch (err) {
    const message = (err as Error).message;
    if (/udevadm/.test(message))
      throw new Error(`cannot list serial ports: udevadm is missing (install the udev package), or pass the port path explicitly (${message})`);
    throw new Error(`cannot list serial ports: ${message}`);
  }
  const wanted = new Set(usbIds.map((id) => id.toLowerCase()));
  return ports.map((p) => {
    const id = usbId(p);
    return id && wanted.has(id) ? { ...p, board: KNOWN_BOARDS[id] ?? `board ${id}` } : { ...p };
  });
}

/** Ports identified as boards by VID:PID (empty when listing is impossible). */
export async function findBoards(usbIds?: string[]): Promise<ListedPort[]> {
  try {
    return (await listPorts(usbIds)).filter((p) => p.board);
  } catch {
    return [];
  }
}
