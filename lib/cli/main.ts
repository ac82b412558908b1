#!/usr/bin/env node
// atomik-node (also installed as `atomik`): find, probe and emulate ATOMiK boards.
import { startBoard } from '../board/emulate.js';
import { flashCommand, runFlash, shellLine, type FlashBoard } from '../board/flash.js';
import { createProgressBar } from './progress-bar.js';
import { listPorts } from '../serial/discover.js';
import { probe } from '../serial/probe.js';
import { openSerialTransport } from '../serial/transport.js';

const NAME = 'atomik-node';

const COMMANDS = {
  devices: {
    usage: `${NAME} devices [--ids VID:PID,...]`,
    help: 'list serial ports, marking ATOMiK boards by USB VID:PID (default 0403:6010, the Tang Nano 9K)',
  },
  probe: {
    usage: `${NAME} probe <port> [--baud N]`,
    help: 'say which protocol answers on <port> and what the board reports (writes only to the port named)',
  },
  emulate: {
    usage: `${NAME} emulate [--board host|cortex-m3|rtl] [--legacy] [--baud N] [--contexts N] [--link PATH]`,
    help:
      'start a virtual board and print the port to use: the firmware on a pseudo-terminal (host), under\n' +
      'qemu-system-arm (cortex-m3), or our Verilog design under Verilator (rtl); --legacy speaks the\n' +
      'official FPGA protocol; --baud paces the line; --link also exposes the port at PATH. Ctrl-C stops it.',
  },
  flash: {
    usage: `${NAME} flash --board tangnano9k|ice40 <bitstream> [--sram] [--dry-run]`,
    help:
      'write a bitstream to a board through openFPGALoader (tangnano9k) or iceprog (ice40);\n' +
      '--sram loads it until power-off only; --dry-run prints the command without running it.',
  },
} as const;
type Command = keyof typeof COMMANDS;

const USAGE = `usage:\n${Object.values(COMMANDS)
  .map((c) => `  ${c.usage}\n      ${c.help.split('\n')[0]}`)
  .join('\n')}\n  ${NAME} <command> --help`;

function commandHelp(command: Command): string {
  return `usage: ${COMMANDS[command].usage}\n\n${COMMANDS[command].help}`;
}

function flag(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  if (at < 0) return undefined;
  const value = args[at + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`${name} needs a value`);
  args.splice(at, 2);
  return value;
}

function has(args: string[], name: string): boolean {
  const at = args.indexOf(name);
  if (at >= 0) args.splice(at, 1);
  return at >= 0;
}

function number(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${value}`);
  return n;
}

function noRest(args: string[]): void {
  if (args.length) throw new Error(`unexpected argument(s): ${args.join(' ')}`);
}

async function devices(args: string[]): Promise<void> {
  const ids = flag(args, '--ids')?.split(',');
  noRest(args);
  const ports = await listPorts(ids);
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
  const baudRate = number(flag(args, '--baud'), '--baud');
  const port = args.shift();
  if (!port) throw new Error('probe needs the port to probe (it never writes to a port you did not name)');
  noRest(args);
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
  const board: string = flag(args, '--board') ?? 'host';
  if (board !== 'host' && board !== 'cortex-m3' && board !== 'rtl') throw new Error(`--board must be host, cortex-m3 or rtl, got ${board}`);
  const legacy = has(args, '--legacy');
  const baud = number(flag(args, '--baud'), '--baud');
  const contexts = number(flag(args, '--contexts'), '--contexts');
  const link = flag(args, '--link');
  noRest(args);
  const bar = createProgressBar(process.stderr);
  const vb = await startBoard({ board, legacy, baud, contexts, link, onProgress: bar.listener }).finally(() => bar.end());
  console.log(`PORT ${vb.port}`);
  console.error(`${board} board${legacy ? ' (official FPGA protocol)' : ''} running; open ${vb.port}. Ctrl-C stops it.`);
  let stopping = false;
  const stop = () => {
    stopping = true;
    void vb.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await vb.exited;
  if (stopping) return;
  console.error('the board stopped');
  process.exit(1);
}

async function flashCommandLine(args: string[]): Promise<void> {
  const board = flag(args, '--board');
  if (board === undefined) throw new Error('flash needs --board tangnano9k or --board ice40');
  const sram = has(args, '--sram');
  const dryRun = has(args, '--dry-run');
  const bitstream = args.shift();
  if (!bitstream) throw new Error('flash needs the bitstream file');
  noRest(args);
  const command = flashCommand({ board: board as FlashBoard, bitstream, sram });
  console.log(shellLine(command.command, command.args));
  if (!dryRun) await runFlash(command);
}

const RUN: Record<Command, (args: string[]) => Promise<void>> = { devices, probe: probeCommand, emulate, flash: flashCommandLine };

async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    const topic = command === 'help' ? args[0] : undefined;
    console.log(topic !== undefined && topic in COMMANDS ? commandHelp(topic as Command) : USAGE);
    return;
  }
  if (!(command in COMMANDS)) throw new Error(`unknown command '${command}'\n${USAGE}`);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(commandHelp(command as Command));
    return;
  }
  return RUN[command as Command](args);
}

main(process.argv.slice(2)).catch((err: Error) => {
  console.error(`${NAME}: ${err.message}`);
  process.exit(1);
});
