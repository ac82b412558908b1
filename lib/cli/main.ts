#!/usr/bin/env node
// atomik-node (also installed as `atomik`): find, probe and emulate ATOMiK
// boards, and inspect replicated tables in Redis.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BOARD_KINDS, BOARD_LIMITS, startBoard, type BoardKind } from '../board/emulate.js';
import { FLASH_BOARDS, flashCommand, runFlash, shellLine, type FlashBoard } from '../board/flash.js';
import { packageRoot } from '../engine/native.js';
import { nearestName } from '../core/validate.js';
import { KNOWN_BOARDS, listPorts, listSysPorts, type ListedPort } from '../serial/discover.js';
import { probe } from '../serial/probe.js';
import { openSerialTransport } from '../serial/transport.js';
import { integerFlag, parseArgs, positionals, usageError, type FlagSpec } from './args.js';
import { createProgressBar } from './progress-bar.js';
import { formatReport, inspectTable } from '../replicate/inspect.js';

const NAME = 'atomik-node';

/** The line rates a serial port is opened at, as open() checks baudRate. */
const PORT_BAUD = [50, 20_000_000] as const;

interface CommandSpec {
  usage: string;
  help: string;
  flags: FlagSpec;
  run(args: string[]): Promise<void>;
}

const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  devices: {
    usage: `${NAME} devices [--ids VID:PID,...]`,
    help:
      'list serial ports, marking ATOMiK boards by USB VID:PID (default 0403:6010, the Tang Nano 9K);\n' +
      'without udev the ports are read from /sys/class/tty and /dev/serial/by-id (stderr names the source)',
    flags: { '--ids': 'value' },
    run: devices,
  },
  probe: {
    usage: `${NAME} probe <port> [--baud N]`,
    help: 'say which protocol answers on <port> and what the board reports (writes only to the port named)',
    flags: { '--baud': 'value' },
    run: probeCommand,
  },
  emulate: {
    usage: `${NAME} emulate [--board host|cortex-m3|rtl] [--legacy] [--baud N] [--contexts N] [--link PATH]`,
    help:
      'start a virtual board and print the port to use: the firmware on a pseudo-terminal (host), under\n' +
      'qemu-system-arm (cortex-m3), or our Verilog design under Verilator (rtl); --legacy speaks the\n' +
      'official FPGA protocol; --baud paces the line; --link also exposes the port at PATH (in a\n' +
      'directory that exists; an existing file there is never replaced). Ctrl-C stops it.',
    flags: { '--board': 'value', '--legacy': 'switch', '--baud': 'value', '--contexts': 'value', '--link': 'value' },
    run: emulate,
  },
  flash: {
    usage: `${NAME} flash --board tangnano9k|ice40 <bitstream> [--sram] [--dry-run]`,
    help:
      'write a bitstream to a board through openFPGALoader (tangnano9k) or iceprog (ice40);\n' +
      '--sram loads it until power-off only; --dry-run prints the command without running it.',
    flags: { '--board': 'value', '--sram': 'switch', '--dry-run': 'switch' },
    run: flashCommandLine,
  },
  inspect: {
    usage: `${NAME} inspect --redis URL --name NAME [--prefix P] [--json]`,
    help:
      "show a replicated table as Redis holds it (read-only): each partition's stream, snapshots and trim\n" +
      "point, and every live replica's health and lag from its heartbeat; --json prints the whole report.",
    flags: { '--redis': 'value', '--name': 'value', '--prefix': 'value', '--json': 'switch' },
    run: inspectCommand,
  },
};

const indent = (text: string, by: string) => text.replace(/^/gm, by);

const USAGE = `usage:\n${Object.values(COMMANDS)
  .map((c) => `  ${c.usage}\n${indent(c.help, '      ')}`)
  .join('\n')}\n  ${NAME} help <command>, ${NAME} <command> --help\n  ${NAME} --version`;

/** The command named `name` (own keys only: never toString or __proto__), or a usage error naming the nearest. */
function commandNamed(name: string): CommandSpec {
  if (Object.hasOwn(COMMANDS, name)) return COMMANDS[name]!;
  const near = nearestName(name, Object.keys(COMMANDS));
  throw usageError(`unknown command '${name}'${near ? ` (did you mean ${near}?)` : ''}; the commands are ${Object.keys(COMMANDS).join(', ')}`);
}

const commandHelp = (c: CommandSpec) => `usage: ${c.usage}\n\n${c.help}`;

function version(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

async function devices(args: string[]): Promise<void> {
  const parsed = parseArgs('devices', args, COMMANDS.devices!.flags);
  positionals(parsed, 0);
  const idList = parsed.values.get('--ids');
  const ids = idList?.split(',');
  for (const id of ids ?? []) if (!/^[0-9a-f]{4}:[0-9a-f]{4}$/i.test(id)) throw usageError(`--ids takes USB ids as VID:PID in hex (0403:6010), got ${id}`);
  let ports: ListedPort[];
  try {
    ports = await listPorts(ids);
    console.error('(ports listed by udev)');
  } catch (err) {
    ports = listSysPorts(KNOWN_BOARDS, ids ?? Object.keys(KNOWN_BOARDS));
    const why = /udevadm/.test((err as Error).message) ? 'udevadm is not installed' : (err as Error).message;
    console.error(`(ports read from /sys/class/tty and /dev/serial/by-id: ${why})`);
  }
  if (ports.length === 0) {
    console.log(`no serial ports found (virtual boards are not listed: use the path ${NAME} emulate prints)`);
    return;
  }
  for (const p of ports) {
    const usb = p.vendorId ? ` ${p.vendorId}:${p.productId}` : '';
    console.log(`${p.path}${usb}${p.manufacturer ? ` ${p.manufacturer}` : ''}${p.board ? `  <- ${p.board}` : ''}`);
  }
}

async function probeCommand(args: string[]): Promise<void> {
  const parsed = parseArgs('probe', args, COMMANDS.probe!.flags);
  const baudRate = integerFlag(parsed.values.get('--baud'), ...PORT_BAUD, '--baud');
  const [port] = positionals(parsed, 1);
  if (!port) throw usageError('probe needs the port to probe (it never writes to a port you did not name)');
  const transport = await openSerialTransport(port, { baudRate, lock: false });
  const bar = createProgressBar(process.stderr);
  try {
    const found = await probe(transport, { onProgress: bar.listener }).finally(() => bar.end());
    if (found.hello) {
      const h = found.hello;
      console.log(`${port}: atomik framed protocol v${h.protocol}, firmware ${h.firmware} on '${h.name}'`);
      console.log(
        `  ${h.contexts} contexts, groups ${h.groups.join(' and ')}, up to ${h.maxOps} ops and ${h.maxPayload} bytes a frame, replay cache ${h.replayDepth}`,
      );
    } else {
      console.log(`${port}: official ATOMiK FPGA protocol (L/A/R/S/D, one context, xor); accumulator ${found.clean ? 'clean' : 'not clean'}`);
    }
  } finally {
    await transport.close();
  }
}

async function emulate(args: string[]): Promise<void> {
  const parsed = parseArgs('emulate', args, COMMANDS.emulate!.flags);
  positionals(parsed, 0);
  const board = parsed.values.get('--board') ?? 'host';
  if (!(BOARD_KINDS as readonly string[]).includes(board)) throw usageError(`--board must be ${BOARD_KINDS.join(', ')}, got ${board}`);
  const legacy = parsed.switches.has('--legacy');
  const baud = integerFlag(parsed.values.get('--baud'), ...BOARD_LIMITS.baud, '--baud');
  const contexts = integerFlag(parsed.values.get('--contexts'), ...BOARD_LIMITS.contexts, '--contexts');
  const link = parsed.values.get('--link');
  const bar = createProgressBar(process.stderr);
  const vb = await startBoard({ board: board as BoardKind, legacy, baud, contexts, link, onProgress: bar.listener }).finally(() => bar.end());
  console.log(`PORT ${vb.port}`);
  console.error(`${board} board${legacy ? ' (official FPGA protocol)' : ''} running; open ${vb.port}. Ctrl-C stops it.`);
  let stopping = false;
  const stop = () => {
    stopping = true;
    void vb.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.once('SIGHUP', stop);
  await vb.exited;
  if (stopping) return;
  console.error('the board stopped');
  process.exit(1);
}

async function flashCommandLine(args: string[]): Promise<void> {
  const parsed = parseArgs('flash', args, COMMANDS.flash!.flags);
  const board = parsed.values.get('--board');
  if (board === undefined) throw usageError(`flash needs --board ${Object.keys(FLASH_BOARDS).join(' or --board ')}`);
  if (!Object.hasOwn(FLASH_BOARDS, board)) throw usageError(`--board must be ${Object.keys(FLASH_BOARDS).join(' or ')}, got ${board}`);
  const [bitstream] = positionals(parsed, 1);
  if (!bitstream) throw usageError('flash needs the bitstream file');
  const command = flashCommand({ board: board as FlashBoard, bitstream, sram: parsed.switches.has('--sram') });
  console.log(shellLine(command.command, command.args));
  if (!parsed.switches.has('--dry-run')) await runFlash(command);
}

async function inspectCommand(args: string[]): Promise<void> {
  const parsed = parseArgs('inspect', args, COMMANDS.inspect!.flags);
  positionals(parsed, 0);
  const redis = parsed.values.get('--redis');
  const name = parsed.values.get('--name');
  if (redis === undefined || name === undefined) throw usageError('inspect needs --redis URL and --name NAME');
  const report = await inspectTable(redis, name, { prefix: parsed.values.get('--prefix') });
  process.stdout.write(parsed.switches.has('--json') ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
}

async function main(argv: string[]): Promise<void> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    console.log(USAGE);
    return;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    console.log(version());
    return;
  }
  if (name === 'help') {
    if (args.length > 1) throw usageError(`help takes one command, got ${args.join(' ')}`);
    console.log(args[0] === undefined ? USAGE : commandHelp(commandNamed(args[0])));
    return;
  }
  const command = commandNamed(name);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(commandHelp(command));
    return;
  }
  return command.run(args);
}

main(process.argv.slice(2)).catch((err: Error & { code?: unknown }) => {
  // `code: message`, once.
  const code = typeof err.code === 'string' && err.code.startsWith('ERR_') ? `${err.code}: ` : '';
  console.error(`${NAME}: ${code}${err.message}`);
  process.exit(1);
});
