// The failure bookkeeping both serial clients share: every call still
// waiting for the device is registered here; when the link fails, each is
// rejected with a DeviceError that lists exactly its own unconfirmed
// operations, later calls are refused with the same cause, and the port is
// released so it can be opened again at once and the process can exit.
import { DeviceError, type Unconfirmed } from '../core/errors.js';

export interface PendingCall {
  /** The call's operations whose effect is not known to the host, at this moment. */
  unconfirmed(): Unconfirmed[];
  reject(error: DeviceError): void;
}

export class PendingCalls {
  private readonly calls = new Set<PendingCall>();
  private cause: { message: string; deviceCode: string | undefined } | null = null;

  /** @param release closes the port (whichever is current when the link fails) */
  constructor(private readonly release: () => Promise<void>) {}

  get failed(): boolean {
    return this.cause !== null;
  }

  add(call: PendingCall): void {
    this.calls.add(call);
  }

  /** The call resolved or was rejected on its own. */
  delete(call: PendingCall): void {
    this.calls.delete(call);
  }

  /** The error for a call made after the failure: none of its `ops` was sent. */
  refusal(ops: readonly { op: string; index: number }[]): DeviceError {
    const cause = this.cause ?? { message: 'the link failed', deviceCode: undefined };
    return new DeviceError(
      cause.message,
      ops.map((o) => ({ op: o.op, index: o.index, state: 'queued' as const })),
      cause.deviceCode,
    );
  }

  /**
   * Fails the link: rejects every pending call with its own list, then
   * closes the port (its errors are of no further use). Only the first
   * failure counts.
   */
  fail(message: string, deviceCode?: string): void {
    if (this.cause) return;
    this.cause = { message, deviceCode };
    const calls = [...this.calls];
    this.calls.clear();
    for (const call of calls) call.reject(new DeviceError(message, call.unconfirmed(), deviceCode));
    this.release().catch(() => {});
  }
}
