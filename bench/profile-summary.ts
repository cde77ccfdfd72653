/**
 * Summarizes a V8 CPU profile (`node --cpu-prof`): the functions with the most self time, and
 * self time by where the code lives (a package under node_modules, a directory of src/, node's
 * internals, native code, GC, idle).
 *
 *   node bench/profile-summary.ts <file.cpuprofile> [top]
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT, round } from './lib.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Share of samples that were not idle. */
  busyPct: number;
  top: { selfMs: number; pct: number; fn: string; where: string }[];
  byPlace: { selfMs: number; pct: number; place: string }[];
}

function place(url: string): string {
  if (!url) return '(native/vm)';
  if (url.startsWith('node:')) return 'node: internals';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const rel = relative(ROOT, path);
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(rel);
  if (nm) return nm[1]!;
  if (rel.startsWith('src/')) return rel.split('/').slice(0, 2).join('/');
  return rel;
}

export function summarizeProfile(file: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  // Self time per node from the sample deltas (more exact than hitCount x interval).
  const self = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const next = deltas[i + 1] ?? 0;
    self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + Math.max(0, next));
  }
  const totalUs = profile.endTime - profile.startTime;
  const byFn = new Map<string, { us: number; fn: string; where: string }>();
  const byPlace = new Map<string, number>();
  let idleUs = 0;
  for (const node of profile.nodes) {
    const us = self.get(node.id) ?? 0;
    if (us === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const fn = functionName || '(anonymous)';
    const p = functionName.startsWith('(') ? functionName : place(url);
    const where = functionName.startsWith('(')
      ? ''
      : url
        ? `${p === 'node: internals' ? url : relative(ROOT, url.startsWith('file://') ? fileURLToPath(url) : url)}:${lineNumber + 1}`
        : '(native)';
    const key = `${fn} ${where}`;
    const entry = byFn.get(key) ?? { us: 0, fn, where };
    entry.us += us;
    byFn.set(key, entry);
    byPlace.set(p, (byPlace.get(p) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  return {
    file,
    totalMs: round(totalUs / 1000, 0),
    busyPct: round((busyUs / totalUs) * 100, 1),
    top: [...byFn.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e) => ({
        selfMs: round(e.us / 1000, 0),
        pct: round((e.us / busyUs) * 100, 1),
        fn: e.fn,
        where: e.where,
      })),
    byPlace: [...byPlace.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([p, us]) => ({ selfMs: round(us / 1000, 0), pct: round((us / busyUs) * 100, 1), place: p })),
  };
}

export function formatProfile(s: ProfileSummary): string {
  const lines = [
    `profile ${relative(ROOT, s.file)}: ${s.totalMs} ms, ${s.busyPct}% busy; self time as % of busy time`,
    '  top functions:',
    ...s.top.map(
      (t) => `    ${String(t.pct).padStart(5)}%  ${String(t.selfMs).padStart(6)} ms  ${t.fn}  ${t.where}`,
    ),
    '  by place:',
    ...s.byPlace.map(
      (p) => `    ${String(p.pct).padStart(5)}%  ${String(p.selfMs).padStart(6)} ms  ${p.place}`,
    ),
  ];
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node bench/profile-summary.ts <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  process.stdout.write(`${formatProfile(summarizeProfile(file, Number(process.argv[3] ?? 25)))}\n`);
}
