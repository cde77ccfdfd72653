/**
 * The fan-out load generator (a child process of bench/run.ts), the same for Parley and for
 * the in-memory relay. It opens one WebSocket per member of every group (`Authorization:
 * Bearer`), waits for each `ready` frame, then sends `send` frames over those sockets at
 * stepped rates (open loop: a 5 ms tick sends what the schedule says is due, whatever has been
 * acknowledged). Each message's text carries its sequence number and send time; every
 * socket that receives its `message.created` event records the send-to-receive latency.
 * Every member's socket gets the event, the sender's included, so one message is
 * `members` deliveries on both servers. With `urls`, each group's members are spread over
 * several nodes (cross-node delivery through Redis).
 *
 * A step passes when every delivery arrived (after a bounded drain), the p99 latency is within
 * `maxP99Ms`, the schedule was kept (>= 95% of the rate sent) and no error frame came back.
 * The rates of `rates` are climbed in order until a step fails (twice in a row with `retry`).
 * Messages to the parent: `{type: 'connected'}` once every
 * socket is ready (the parent then samples idle memory and answers `{type: 'go'}`), then the
 * result.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { childMain, percentile, round, sleep } from './lib.ts';

export interface FanoutInput {
  /** ws:// URL of the stream. */
  url: string;
  /**
   * The streams of several nodes of one cluster: member i of every group connects to
   * urls[i % urls.length], so every group has members on each node and a message crosses
   * nodes (`url` is then not used).
   */
  urls?: string[];
  groups: { id: string; members: { actorId: string; token: string }[] }[];
  /** The rates to climb, in messages per second (all groups together), the same for both servers. */
  rates: number[];
  stepMs: number;
  warmupMs: number;
  textChars: number;
  maxP99Ms: number;
  /** Try a failed step once more before stopping. */
  retry: boolean;
}

export interface StepResult {
  rate: number;
  sent: number;
  acked: number;
  expected: number;
  delivered: number;
  /** Deliveries of this step's messages per second of sending. */
  deliveriesPerSec: number;
  sentPerSec: number;
  p50: number;
  p99: number;
  max: number;
  ackP50: number;
  ackP99: number;
  errors: number;
  /** CPU use of this load generator while sending (% of one core). */
  loadCpuPct: number;
  /** CPU use of the server while sending (% of one core), filled in by bench/run.ts. */
  serverCpuPct: number;
  /** With --db postgres: the cluster's CPU time while sending, ms, filled in by bench/run.ts. */
  pgCpuMs?: number;
  pass: boolean;
  why: string;
}

export interface FanoutResult {
  sockets: number;
  connectMs: number;
  steps: StepResult[];
  best: StepResult | null;
  errorSamples: string[];
}

interface Member {
  ws: WebSocket;
}

async function connect(url: string, token: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no ready frame in 15 s')), 15_000);
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      reject(new Error(`upgrade refused: ${res.statusCode}`));
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.once('message', (data) => {
      clearTimeout(timer);
      const text = data.toString();
      if (text.startsWith('{"type":"ready"')) resolve();
      else reject(new Error(`first frame is not ready: ${text.slice(0, 200)}`));
    });
  });
  return ws;
}

/** Where a step's measurements go. */
class Step {
  readonly lat: Float64Array;
  readonly ackLat: Float64Array;
  delivered = 0;
  acked = 0;
  late = 0;
  readonly firstSeq: number;
  constructor(firstSeq: number, capacity: number, members: number) {
    this.firstSeq = firstSeq;
    this.lat = new Float64Array(capacity * members);
    this.ackLat = new Float64Array(capacity);
  }
}

async function main(input: FanoutInput): Promise<FanoutResult> {
  const members = input.groups[0]!.members.length;
  const t0 = performance.now();
  const groups: { id: string; sockets: Member[] }[] = [];
  const all: { ws: WebSocket; group: number }[] = [];
  for (const [gi, g] of input.groups.entries()) {
    const sockets = await Promise.all(
      g.members.map(async (m, i) => ({
        ws: await connect(input.urls ? input.urls[i % input.urls.length]! : input.url, m.token),
      })),
    );
    groups.push({ id: g.id, sockets });
    for (const s of sockets) all.push({ ws: s.ws, group: gi });
  }
  const connectMs = performance.now() - t0;

  let step: Step | null = null;
  let errors = 0;
  const errorSamples: string[] = [];
  let closed = 0;
  let acksTotal = 0;
  const onFrame = (data: Buffer) => {
    const now = performance.now();
    const text = data.toString();
    if (text.startsWith('{"type":"event"')) {
      const at = text.indexOf('"text":"b:');
      if (at < 0) return; // some other event
      const sep1 = text.indexOf(':', at + 10);
      const sep2 = text.indexOf(':', sep1 + 1);
      const seq = Number(text.slice(at + 10, sep1));
      const sentAt = Number(text.slice(sep1 + 1, sep2));
      const s = step;
      if (!s || seq < s.firstSeq) return;
      if (s.delivered < s.lat.length) s.lat[s.delivered++] = now - sentAt;
      else s.late++;
    } else if (text.startsWith('{"type":"ack"')) {
      acksTotal++;
      const at = text.indexOf('"text":"b:');
      const sep1 = text.indexOf(':', at + 10);
      const sep2 = text.indexOf(':', sep1 + 1);
      const seq = Number(text.slice(at + 10, sep1));
      const s = step;
      if (!s || seq < s.firstSeq || at < 0) return;
      if (s.acked < s.ackLat.length) s.ackLat[s.acked++] = now - Number(text.slice(sep1 + 1, sep2));
    } else if (text.startsWith('{"type":"error"')) {
      errors++;
      if (errorSamples.length < 5) errorSamples.push(text.slice(0, 300));
    }
  };
  for (const { ws } of all) {
    ws.on('message', onFrame);
    ws.on('close', (code, reason) => {
      closed++;
      if (errorSamples.length < 5) errorSamples.push(`socket closed ${code} ${reason.toString()}`);
    });
  }

  process.send!({ type: 'connected', sockets: all.length, connectMs });
  await new Promise<void>((resolve) =>
    process.on('message', (m: any) => {
      if (m?.type === 'go') resolve();
    }),
  );

  let seq = 0;
  // Client ids are unique per run: a second run on the same server must not look like a retry.
  const runId = `${process.pid.toString(36)}${Date.now().toString(36)}`;
  const pad = 'x'.repeat(input.textChars);
  const sendOne = () => {
    const n = seq++;
    const g = groups[n % groups.length]!;
    const sender = g.sockets[Math.floor(n / groups.length) % g.sockets.length]!;
    const head = `b:${n}:${performance.now().toFixed(3)}:`;
    sender.ws.send(
      JSON.stringify({
        type: 'send',
        conversation_id: g.id,
        text: head + pad.slice(head.length),
        client_id: `bench-${runId}-${n}`,
      }),
    );
  };

  /** Sends at `rate` for `ms`; measures when `measure`. */
  const runStep = async (rate: number, ms: number): Promise<StepResult> => {
    const capacity = Math.ceil((rate * ms) / 1000) + 16;
    const s = new Step(seq, capacity, members);
    step = s;
    const errorsBefore = errors;
    process.send!({ type: 'step-start', rate });
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    let sent = 0;
    let overloaded = false;
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        const elapsed = performance.now() - start;
        const due = Math.min(capacity - 16, Math.floor((rate * Math.min(elapsed, ms)) / 1000));
        // Open loop, but bounded: more than 2 s of sends unacknowledged is a failed step.
        if (sent - s.acked > rate * 2 + 50) overloaded = true;
        while (!overloaded && sent < due) {
          sendOne();
          sent++;
        }
        if (elapsed >= ms || overloaded) {
          clearInterval(tick);
          resolve();
        }
      }, 5);
    });
    const sendMs = performance.now() - start;
    const cpu = process.cpuUsage(cpu0);
    process.send!({ type: 'step-sent', rate });
    const expected = sent * members;
    // Drain: wait (bounded) for every acknowledgement and delivery of this step.
    const drainUntil = performance.now() + Math.max(3000, 2 * ms);
    while ((s.delivered < expected || s.acked < sent) && performance.now() < drainUntil && closed === 0) {
      await sleep(20);
    }
    const lat = s.lat.subarray(0, s.delivered).sort();
    const ack = s.ackLat.subarray(0, s.acked).sort();
    const p99 = percentile(lat, 99, true);
    const stepErrors = errors - errorsBefore;
    const why = [
      overloaded ? 'over 2 s of sends unacknowledged' : '',
      s.delivered < expected ? `${expected - s.delivered} of ${expected} deliveries missing` : '',
      p99 > input.maxP99Ms ? `p99 ${p99.toFixed(1)} ms > ${input.maxP99Ms} ms` : '',
      sent < rate * (ms / 1000) * 0.95 ? `only ${sent} sent of ${Math.round((rate * ms) / 1000)}` : '',
      stepErrors > 0 ? `${stepErrors} error frames` : '',
      closed > 0 ? `${closed} sockets closed` : '',
    ]
      .filter(Boolean)
      .join('; ');
    const result: StepResult = {
      rate,
      sent,
      acked: s.acked,
      expected,
      delivered: s.delivered,
      deliveriesPerSec: round((s.delivered / sendMs) * 1000, 0),
      sentPerSec: round((sent / sendMs) * 1000, 0),
      p50: round(percentile(lat, 50, true), 2),
      p99: round(p99, 2),
      max: round(lat[lat.length - 1] ?? Number.NaN, 2),
      ackP50: round(percentile(ack, 50, true), 2),
      ackP99: round(percentile(ack, 99, true), 2),
      errors: stepErrors,
      loadCpuPct: Math.round(((cpu.user + cpu.system) / 1000 / sendMs) * 100),
      serverCpuPct: Number.NaN,
      pass: why === '',
      why,
    };
    step = null;
    return result;
  };

  /** After a failed step: lets the server finish its backlog (bounded) before the next one. */
  const recover = async () => {
    const until = performance.now() + 30_000;
    while (acksTotal + errors < seq && performance.now() < until && closed === 0) await sleep(50);
    await sleep(500);
  };
  const steps: StepResult[] = [];
  const log = (r: StepResult) => {
    steps.push(r);
    process.send!({ type: 'step', step: r });
  };
  // Warm-up (not reported): JIT, caches, the first event of the org.
  await runStep(input.rates[0]!, input.warmupMs);
  let best: StepResult | null = null;
  for (const rate of input.rates) {
    if (closed > 0) break;
    let r = await runStep(rate, input.stepMs);
    log(r);
    // One retry: a single hiccup of a shared machine does not end the climb.
    if (!r.pass && input.retry && closed === 0) {
      await recover();
      r = await runStep(rate, input.stepMs);
      log(r);
    }
    if (!r.pass) break;
    best = r;
  }
  for (const { ws } of all) ws.terminate();
  return { sockets: all.length, connectMs: round(connectMs, 0), steps, best, errorSamples };
}

childMain(main);
