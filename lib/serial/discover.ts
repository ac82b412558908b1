// Serial port discovery. Listing never writes to a port; boards are marked
// by USB VID:PID only. Ports are listed by udev (the serialport package),
// or, where udevadm is missing (most containers), read straight from the
// kernel (/sys/class/tty) and udev's stable names (/dev/serial/by-id).
import { readFileSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AtomikError } from '../core/errors.js';
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

/**
 * Lists serial ports through udev; rejects with ERR_ATOMIK_MISSING_TOOL
 * when udevadm is missing, ERR_ATOMIK_NO_DEVICE when listing fails otherwise.
 */
export async function listPorts(usbIds: string[] = Object.keys(KNOWN_BOARDS)): Promise<ListedPort[]> {
  const serialport = loadSerialPort();
  if (serialport instanceof Error) throw serialport;
  let ports: PortInfo[];
  try {
    ports = await serialport.list();
  } catch (err) {
    const message = (err as Error).message;
    if (/udevadm/.test(message)) {
      throw new AtomikError(
        'ERR_ATOMIK_MISSING_TOOL',
        `cannot list serial ports: udevadm is missing (install the udev package), or pass the port path explicitly (${message})`,
        {
          cause: err,
        },
      );
    }
    throw new AtomikError('ERR_ATOMIK_NO_DEVICE', `cannot list serial ports: ${message}`, { cause: err });
  }
  const wanted = new Set(usbIds.map((id) => id.toLowerCase()));
  return ports.map((p) => {
    const id = usbId(p);
    return id && wanted.has(id) ? { ...p, board: KNOWN_BOARDS[id] ?? `board ${id}` } : { ...p };
  });
}

/** Ports identified as boards by VID:PID: listed by udev, else read from /sys (empty where neither can list). */
export async function findBoards(usbIds?: string[]): Promise<ListedPort[]> {
  let ports: ListedPort[];
  try {
    ports = await listPorts(usbIds);
  } catch {
    try {
      ports = listSysPorts(KNOWN_BOARDS, usbIds ?? Object.keys(KNOWN_BOARDS));
    } catch {
      return []; // no /sys either: not Linux, and udev could not list
    }
  }
  return ports.filter((p) => p.board);
}

const SYS_TTY = '/sys/class/tty';
const BY_ID = '/dev/serial/by-id';

function readAttribute(dir: string, name: string): string | undefined {
  try {
    return readFileSync(join(dir, name), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The USB device above a tty's device in sysfs (the directory with idVendor), if any. */
function usbDevice(device: string): string | undefined {
  for (let dir = device; dir !== '/' && dir !== '/sys'; dir = dirname(dir)) if (readAttribute(dir, 'idVendor')) return dir;
  return undefined;
}

/** Every tty backed by a device (virtual consoles and PTYs have none), with its USB ids and by-id name. */
export function listSysPorts(knownBoards: Readonly<Record<string, string>>, usbIds: readonly string[]): ListedPort[] {
  const aliases = new Map<string, string>();
  try {
    for (const name of readdirSync(BY_ID)) aliases.set(realpathSync(join(BY_ID, name)), join(BY_ID, name));
  } catch {
    // no udev rules ran here: no stable names
  }
  const wanted = new Set(usbIds.map((id) => id.toLowerCase()));
  const ports: ListedPort[] = [];
  for (const name of readdirSync(SYS_TTY).sort()) {
    let device: string;
    try {
      device = realpathSync(join(SYS_TTY, name, 'device'));
    } catch {
      continue;
    }
    const path = join('/dev', name);
    const port: ListedPort = { path };
    const usb = usbDevice(device);
    if (usb) {
      port.vendorId = readAttribute(usb, 'idVendor');
      port.productId = readAttribute(usb, 'idProduct');
      const manufacturer = readAttribute(usb, 'manufacturer');
      const serialNumber = readAttribute(usb, 'serial');
      if (manufacturer) port.manufacturer = manufacturer;
      if (serialNumber) port.serialNumber = serialNumber;
      const id = `${port.vendorId}:${port.productId}`.toLowerCase();
      if (wanted.has(id)) port.board = Object.hasOwn(knownBoards, id) ? knownBoards[id] : `board ${id}`;
    }
    const alias = aliases.get(path);
    if (alias) port.pnpId = alias;
    ports.push(port);
  }
  return ports;
}
