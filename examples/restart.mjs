// Restarting a sender without losing or doubling a message. A sender counts
// requests per route and sends 16-byte DeltaMessages to a receiver; it
// crashes twice. Restarted from scratch it numbers its messages from 1
// again in a new session: its first message (pending() hands it out) tells
// the receiver, which answers 'restarted' and starts the sender's record
// afresh; whatever the crashed sender had not sent is gone. Restarted from
// the state it saved before each send (stream.save(), with its outbox), it
// resends what may not have arrived and the receiver applies each update
// exactly once, dropping the copies.
//   node examples/restart.mjs
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeltaStream } from 'atomik-node';

const ROUTES = 4;
const dir = mkdtempSync(join(tmpdir(), 'atomik-restart-'));
const stateFile = join(dir, 'sender.state');

/** 60 requests in batches of 5; the sender crashes after batches 4 and 9, just after sending. */
function run(resume) {
  const receiver = new DeltaStream({ group: 'add' });
  const receipts = { applied: 0, duplicate: 0, stale: 0, ahead: 0, restarted: 0, session: 0 };
  const deliver = (messages) => messages.forEach((m) => receipts[receiver.receive(m)]++);
  let sender = new DeltaStream({ group: 'add', origin: 1, outbox: 64 });
  let counted = 0;
  for (let batch = 0; batch < 12; batch++) {
    for (let k = 0; k < 5; k++, counted++) sender.accum((batch * 5 + k) % ROUTES, 1n);
    writeFileSync(stateFile, sender.save()); // persisted before the messages leave
    deliver(sender.pending());
    if (batch === 4 || batch === 9) {
      sender = resume ? DeltaStream.restore(readFileSync(stateFile)) : new DeltaStream({ group: 'add', origin: 1, outbox: 64 });
      deliver(sender.pending()); // what the saved outbox still holds: maybe sent, maybe not
    }
  }
  const total = Array.from({ length: ROUTES }, (_, r) => receiver.read(r)).reduce((a, b) => a + b, 0n);
  return (
    `${resume ? 'restored from its saved state' : 'restarted from scratch       '}: sent ${counted}, receiver counts ${total}; ` +
    `applied ${receipts.applied}, duplicate ${receipts.duplicate}, stale ${receipts.stale}, restarted ${receipts.restarted}`
  );
}

try {
  console.log(run(false));
  console.log(run(true));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
