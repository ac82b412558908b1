// What the host learns about a serial link while it uses it: how late
// replies come beyond the time their bytes need on the line (for the
// retransmission timeout), and how often a frame is damaged per byte (for
// the frame size). Pure arithmetic, no timers: the framed client feeds it.

/** Smallest timeout beyond line time: scheduling jitter of the OS and the board. */
export const MIN_SLACK_MS = 4;
/** Per-frame bytes that carry no operation: request and reply headers and CRCs. */
const FRAME_COST_BYTES = 22;
/** Weight of the past in the error estimate, per frame outcome: about the last 200 frames count. */
const DECAY = 0.995;
/** The estimate starts as if this many frames of PRIOR_BYTES each had crossed the line cleanly. */
const PRIOR_FRAMES = 8;
const PRIOR_BYTES = 2048;
/** Above this share of damaged frames the per-byte estimate stops growing (the logarithm would). */
const MAX_FAILURE_SHARE = 0.95;
/** The most losses in a row ever put down to the line rather than to the device. */
const MAX_EXPLAINED = 24;

export class LinkEstimator {
  /** Smoothed lateness of replies beyond their line time, and its mean deviation (ms); null until measured. */
  private srtt: number | null = null;
  private rttvar = 0;
  private frames = PRIOR_FRAMES;
  private bytes = PRIOR_FRAMES * PRIOR_BYTES;
  private failures = 0;

  /**
   * @param initialSlackMs the timeout beyond line time before anything was measured
   * @param maxSlackMs the ceiling a backed-off timeout grows to
   */
  constructor(
    private readonly initialSlackMs: number,
    private readonly maxSlackMs: number,
  ) {}

  /** The shortest round trip seen, send to reply (ms). */
  minRttMs = Infinity;

  /**
   * A reply came `lateMs` after its bytes could have crossed the line, `rttMs`
   * after its frame was sent (null when not known: a frame sent more than once).
   */
  sample(lateMs: number, rttMs: number | null): void {
    if (rttMs !== null) this.minRttMs = Math.min(this.minRttMs, rttMs);
    const late = Math.max(0, lateMs);
    if (this.srtt === null) {
      this.srtt = late;
      this.rttvar = late / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - late);
      this.srtt = 0.875 * this.srtt + 0.125 * late;
    }
  }

  /** How long to wait beyond line time for the reply to a frame sent for the `attempt`-th time (1, 2, ...). */
  slackMs(attempt: number): number {
    const base = this.srtt === null ? this.initialSlackMs : Math.max(MIN_SLACK_MS, this.srtt + 4 * this.rttvar);
    return Math.min(this.maxSlackMs, base * 2 ** Math.min(attempt - 1, 16));
  }

  /** A frame of `bytes` (request and reply) crossed the line, or did not. */
  outcome(bytes: number, delivered: boolean): void {
    this.frames = this.frames * DECAY + 1;
    this.bytes = this.bytes * DECAY + bytes;
    this.failures = this.failures * DECAY + (delivered ? 0 : 1);
  }

  /** The last frame counted as lost had only been slow. */
  spurious(): void {
    this.failures = Math.max(0, this.failures - 1);
  }

  /**
   * Damaged bytes per byte on the line: a frame of n bytes is lost with
   * probability f = 1 - e^(-pn), so p = -ln(1 - f) / n for the measured
   * share f of lost frames and their mean size n.
   */
  get errorRate(): number {
    const share = Math.min(MAX_FAILURE_SHARE, this.failures / this.frames);
    return -Math.log1p(-share) / (this.bytes / this.frames);
  }

  /**
   * Losses in a row of a frame of `bytes` (request plus reply) that the
   * measured error rate explains: more than this many would happen less than
   * once in a hundred times on such a line, so only beyond them is silence
   * taken for a device that stopped answering (timeouts back off, retries
   * run out). 0 on a clean line.
   */
  lossesExplained(bytes: number): number {
    const lost = -Math.expm1(-this.errorRate * bytes); // a frame of that size is lost with this probability
    if (lost <= 0) return 0;
    return Math.min(MAX_EXPLAINED, Math.ceil(Math.log(0.01) / Math.log(Math.min(lost, MAX_FAILURE_SHARE))) - 1);
  }

  /**
   * Payload bytes (request plus reply) per frame that carry the most
   * operations per line byte at the measured error rate: a frame of n
   * useful bytes arrives whole with probability about e^(-p(n+c)), so the
   * goodput n/(n+c) * e^(-p(n+c)) peaks at n = (sqrt(c^2 + 4c/p) - c) / 2.
   */
  frameBudget(max: number): number {
    const p = this.errorRate;
    if (p <= 0) return max;
    const c = FRAME_COST_BYTES;
    return Math.min(max, Math.floor((Math.sqrt(c * c + (4 * c) / p) - c) / 2));
  }
}
