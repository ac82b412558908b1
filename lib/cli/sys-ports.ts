// Serial ports read straight from the kernel (/sys/class/tty) and udev's
// stable names (/dev/serial/by-id, when present), for machines without
// udevadm (most containers), where the serialport package cannot list.
import { readFileSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ListedPort } from '../serial/discover.js';

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
