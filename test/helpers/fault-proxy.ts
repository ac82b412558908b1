// A TCP proxy between clients and a real redis-server that fails like a
// network: traffic held both ways (pause), every connection cut (reset),
// partitions that hold or refuse new connections too, a command that
// reaches Redis while its reply is lost, and added latency. Every fault is
// recorded with the wall-clock times it started and healed, so a checker
// can measure how long the replicas took to settle after each heal.
import { createServer, connect, type Server, type Socket } from 'node:net';

export type FaultKind = 'pause' | 'reset' | 'partition' | 'lose-reply' | 'delay';

export interface FaultRecord {
  kind: FaultKind;
  /** What was affected, e.g. 'connections sending XREAD' or 'refuse'. */
  detail: string;
  /** Date.now() when the fault began. */
  start: number;
  /** Date.now() when it healed (null while it lasts). */
  heal: number | null;
}

export interface FaultProxy {
  readonly url: string;
  readonly port: number;
  /**
   * Holds traffic both ways, without a reset, on every connection, or with
   * `only`, on the connections that have sent a chunk containing that text
   * (e.g. 'XREAD': a replica's reading connection). Lasts until resume().
   */
  pause(options?: { only?: string; way?: 'both' | 'replies' }): void;
  /**
   * Holds each command containing `text` (as given or in lower case), and
   * whatever its connection sends after it, before it reaches Redis; the
   * replies to earlier commands still flow. Lasts until resume(). E.g.
   * 'XREAD': a replica publishes but reads nothing new. With `replies`,
   * the replies on those connections are held too.
   */
  holdCommands(text: string, options?: { replies?: boolean }): void;
  /** Ends pause() and holdCommands(): what was held is delivered, in order. */
  resume(): void;
  /** Connections whose commands holdCommands() is holding now. */
  readonly heldConnections: number;
  /** Cuts every open connection now; returns how many were cut. */
  reset(): number;
  /**
   * Cuts the replica off for `ms`: 'hold' keeps traffic and new connections
   * waiting (a silent network), 'refuse' cuts every connection and refuses
   * new ones (a host that is down). Resolves when it has healed.
   */
  partition(ms: number, mode?: 'hold' | 'refuse'): Promise<void>;
  /** The next client chunk containing `marker` reaches Redis; its reply is thrown away and the connection cut. */
  armLoseReply(marker: string): void;
  /** Adds `ms` of latency each way to every chunk (0 heals). */
  setDelay(ms: number): void;
  /** Every fault so far, in the order they began. */
  readonly faults: readonly FaultRecord[];
  /** Connections cut so far (resets, refusals and lost replies). */
  readonly cuts: number;
  /** Connections open now. */
  readonly open: number;
  close(): Promise<void>;
}

/** One direction of one connection: chunks wait here while held or delayed, and leave in order. */
class Pipe {
  private readonly queue: { due: number; chunk: Buffer }[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly out: Socket,
    private readonly held: () => boolean,
    private readonly onSend: (chunk: Buffer) => void = () => {},
  ) {}

  push(chunk: Buffer, delayMs: number): void {
    this.queue.push({ due: Date.now() + delayMs, chunk });
    this.drain();
  }

  drain(): void {
    if (this.timer) return;
    while (this.queue.length > 0 && !this.held() && !this.out.destroyed) {
      const wait = this.queue[0]!.due - Date.now();
      if (wait > 0) {
        this.timer = setTimeout(() => {
          this.timer = null;
          this.drain();
        }, wait);
        return;
      }
      const { chunk } = this.queue.shift()!;
      this.out.write(chunk);
      this.onSend(chunk);
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queue.length = 0;
  }
}

interface Link {
  client: Socket;
  upstream: Socket;
  up: Pipe;
  down: Pipe;
  /** Texts seen in this connection's commands, among those a pause asked about. */
  seen: Set<string>;
  /** holdCommands() stopped this connection's commands. */
  stuck: boolean;
  /** A lost reply is being staged: Redis's answers are dropped. */
  losing: boolean;
  cut(): void;
}

export interface FaultProxyOptions {
  /** Redis's host (default 127.0.0.1). */
  host?: string;
  /**
   * Texts each connection is watched for from its first chunk, so that a
   * pause({ only }) can tell the connections apart before they send again
   * (default ['XREAD']: a replica's reading connection).
   */
  watch?: string[];
}

export async function startFaultProxy(redisPort: number, options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const host = options.host ?? '127.0.0.1';
  const links = new Set<Link>();
  const faults: FaultRecord[] = [];
  let cuts = 0;
  let delayMs = 0;
  let armed: string | null = null;
  let refusing = false;
  // The current hold: null (none), '' (every connection) or the text a connection must have sent.
  let holding: string | null = null;
  let holdingWay: 'both' | 'replies' = 'both';
  const watched = new Set<string>(options.watch ?? ['XREAD']);
  const open = (kind: FaultKind, detail: string): FaultRecord => {
    const record: FaultRecord = { kind, detail, start: Date.now(), heal: null };
    faults.push(record);
    return record;
  };
  const healAll = (kind: FaultKind) => {
    for (const f of faults) if (f.kind === kind && f.heal === null) f.heal = Date.now();
  };
  let holdingCommand: string | null = null;
  let holdingReplies = false;
  const contains = (chunk: Buffer, text: string) => chunk.includes(text) || chunk.includes(text.toLowerCase());
  const isHeld = (link: Link) => holding !== null && (holding === '' || link.seen.has(holding));

  const server: Server = createServer((client) => {
    if (refusing) {
      cuts++;
      client.destroy();
      return;
    }
    const upstream = connect(redisPort, host);
    const link: Link = {
      client,
      upstream,
      seen: new Set(),
      stuck: false,
      losing: false,
      up: null as unknown as Pipe,
      down: null as unknown as Pipe,
      cut() {
        if (!links.delete(link)) return;
        link.up.stop();
        link.down.stop();
        client.destroy();
        upstream.destroy();
      },
    };
    link.up = new Pipe(
      upstream,
      () => (isHeld(link) && holdingWay === 'both') || link.stuck,
      (chunk) => {
        if (armed === null || !chunk.includes(armed)) return;
        armed = null;
        link.losing = true;
        const record = open('lose-reply', 'one command reached Redis, its reply was dropped');
        // Let Redis run the command, then cut both sides without its reply.
        setTimeout(() => {
          cuts++;
          link.cut();
          record.heal = Date.now();
        }, 100);
      },
    );
    link.down = new Pipe(client, () => isHeld(link) || (link.stuck && holdingReplies));
    links.add(link);
    client.on('data', (chunk: Buffer) => {
      for (const text of watched) if (!link.seen.has(text) && contains(chunk, text)) link.seen.add(text);
      if (holdingCommand !== null && contains(chunk, holdingCommand)) link.stuck = true;
      link.up.push(chunk, delayMs);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!link.losing) link.down.push(chunk, delayMs);
    });
    const close = () => link.cut();
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };

  const resetAll = () => {
    const n = links.size;
    for (const link of [...links]) link.cut();
    cuts += n;
    return n;
  };
  const release = () => {
    holding = null;
    holdingCommand = null;
    for (const link of links) {
      link.stuck = false;
      link.up.drain();
      link.down.drain();
    }
  };

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pause(options = {}) {
      const only = options.only ?? '';
      if (only !== '') watched.add(only);
      holding = only;
      holdingWay = options.way ?? 'both';
      const what = holdingWay === 'both' ? 'traffic' : 'replies';
      open('pause', `${what} of ${only === '' ? 'every connection' : `connections sending ${only}`} held`);
    },
    holdCommands(text, o = {}) {
      holdingCommand = text;
      holdingReplies = o.replies ?? false;
      open('pause', `commands containing ${text}${holdingReplies ? ' and their replies' : ''} held before Redis`);
    },
    get heldConnections() {
      return [...links].filter((link) => link.stuck).length;
    },
    resume() {
      release();
      healAll('pause');
    },
    reset() {
      const record = open('reset', 'every connection cut');
      const n = resetAll();
      record.heal = Date.now();
      return n;
    },
    async partition(ms, mode = 'hold') {
      const record = open('partition', mode);
      if (mode === 'refuse') {
        refusing = true;
        resetAll();
      } else {
        holding = '';
        holdingWay = 'both';
      }
      await new Promise((r) => setTimeout(r, ms));
      if (mode === 'refuse') refusing = false;
      else release();
      record.heal = Date.now();
    },
    armLoseReply(marker) {
      armed = marker;
    },
    setDelay(ms) {
      if (ms > 0 && delayMs === 0) open('delay', `${ms} ms each way`);
      if (ms === 0) healAll('delay');
      delayMs = ms;
    },
    get faults() {
      return faults;
    },
    get cuts() {
      return cuts;
    },
    get open() {
      return links.size;
    },
    close: () =>
      new Promise((r) => {
        resetAll();
        server.close(() => r());
      }),
  };
}
