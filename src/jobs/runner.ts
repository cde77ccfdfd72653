import { performance } from 'node:perf_hooks';
import type { AppContext } from '../context.ts';
import {
  claimDeletionJob,
  newWorker,
  releaseDeletionJob,
  retryOrFailJob,
  type StepResult,
  stepDeletionJob,
  type Worker,
} from '../services/deletion-runner.ts';
import { sendDueMail, silentLog, type WorkLog } from '../services/mail.ts';
import { deliverDueWebhooks } from '../services/webhook-delivery.ts';

/**
 * The job runner of one process: three loops that run beside the HTTP server.
 *
 * - deletion jobs: claims one job at a time and runs it step by step (services/deletion-runner.ts).
 *   After each step it rests in proportion to the step's duration, so a job keeps the database
 *   busy at most DELETION_DUTY_PERCENT of the time and live requests keep their throughput.
 * - webhook deliveries and the mail outbox: send what is due, then poll again.
 *
 * On PostgreSQL any number of nodes run it; claims are settled by the database. On SQLite the
 * one process runs it. `stop()` finishes the current step, releases the job so it resumes at once
 * elsewhere (or after a restart), and waits for the loops to end.
 */

const POLL_MS = 1000;

/** One job step, with its error handling: errors release the job for a retry or fail it. */
async function runStep(ctx: AppContext, worker: Worker, jobId: string, log: WorkLog): Promise<StepResult> {
  try {
    return await stepDeletionJob(ctx, worker, jobId);
  } catch (err) {
    log.error({ err, job: jobId }, 'deletion job step failed');
    const failed = await retryOrFailJob(ctx, worker, jobId, err).catch((e: unknown) => {
      log.error({ err: e, job: jobId }, 'could not record the failure of a deletion job');
      return false;
    });
    if (failed) log.warn({ job: jobId }, 'deletion job failed for good');
    return 'lost';
  }
}

/** Starts the loops; returns a function that stops them (for app.addHook('onClose', ...)). */
export function startJobRunner(ctx: AppContext, log: WorkLog): () => Promise<void> {
  const worker = newWorker(ctx.config.nodeId);
  let stopped = false;
  const wakers = new Set<() => void>();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stopped) return resolve();
      const done = () => {
        clearTimeout(timer);
        wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      wakers.add(done);
    });

  const jobLoop = async () => {
    let current: string | undefined;
    while (!stopped) {
      try {
        current ??= await claimDeletionJob(ctx, worker);
      } catch (err) {
        log.error({ err }, 'could not claim a deletion job');
      }
      if (!current) {
        await sleep(POLL_MS);
        continue;
      }
      const started = performance.now();
      const result = await runStep(ctx, worker, current, log);
      if (result === 'finished') log.info({ job: current }, 'deletion job finished');
      if (result !== 'more') current = undefined;
      const busy = performance.now() - started;
      const duty = ctx.config.deletionDutyPercent;
      // Rest (100 - duty)/duty times as long as the step took, and always yield at least once.
      if (duty < 100) await sleep(Math.max(1, (busy * (100 - duty)) / duty));
      else await new Promise((resolve) => setImmediate(resolve));
    }
    if (current) await releaseDeletionJob(ctx, worker, current).catch(() => undefined);
  };

  const pollLoop = (name: string, work: () => Promise<number>) => async () => {
    while (!stopped) {
      let n = 0;
      try {
        n = await work();
      } catch (err) {
        log.error({ err, loop: name }, 'job runner loop failed; retrying');
      }
      if (n === 0) await sleep(POLL_MS);
    }
  };

  const loops = [
    jobLoop(),
    pollLoop('webhooks', () => deliverDueWebhooks(ctx, log))(),
    pollLoop('mail', () => sendDueMail(ctx, log))(),
  ];
  return async () => {
    stopped = true;
    for (const wake of [...wakers]) wake();
    await Promise.all(loops);
  };
}

/**
 * Runs everything that is due now until nothing is left: every claimable deletion job to its
 * end (or until its window closes), then due webhook deliveries and mail, again until a pass
 * finds no work. For tests and the CLI: time is `ctx.clock`, nothing sleeps, nothing is throttled.
 */
export async function runJobsUntilIdle(
  ctx: AppContext,
  opts: {
    log?: WorkLog;
    /** Stop (as if the process died) after this many job steps. */
    maxSteps?: number;
    /** Called after every job step (tests move the clock here). */
    afterStep?: (steps: number) => void | Promise<void>;
  } = {},
): Promise<{ steps: number; deliveries: number; mails: number }> {
  const log = opts.log ?? silentLog;
  const worker = newWorker(ctx.config.nodeId);
  const maxSteps = opts.maxSteps ?? 1_000_000;
  const done = { steps: 0, deliveries: 0, mails: 0 };
  for (;;) {
    let worked = false;
    for (let job = await claimDeletionJob(ctx, worker); job; job = await claimDeletionJob(ctx, worker)) {
      worked = true;
      let result: StepResult = 'more';
      while (result === 'more') {
        if (done.steps >= maxSteps) return done;
        result = await runStep(ctx, worker, job, log);
        done.steps++;
        await opts.afterStep?.(done.steps);
      }
    }
    for (let n = await deliverDueWebhooks(ctx, log); n > 0; n = await deliverDueWebhooks(ctx, log)) {
      worked = true;
      done.deliveries += n;
    }
    for (let n = await sendDueMail(ctx, log); n > 0; n = await sendDueMail(ctx, log)) {
      worked = true;
      done.mails += n;
    }
    if (!worked) return done;
  }
}
