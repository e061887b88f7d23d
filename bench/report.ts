// Results of a benchmark run: the JSON record, the target checks and the markdown section of docs/benchmarks.md.

import { readFile, writeFile } from 'node:fs/promises';

import type { BenchData, BenchDatabase } from './bench-data.js';
import type { LoadResult } from './load.js';
import type { MachineInfo } from './system-info.js';

export interface ServerRun extends LoadResult {
  /** CPU time of the server process, all threads, per response, in microseconds; null when it could not be read. */
  serverCpuUsPerRequest: number | null;
}

export interface CaseRun {
  connections: number;
  sidecar: ServerRun;
  baseline: ServerRun;
  /** Sidecar requests per second divided by the baseline's. */
  ratio: number;
}

export interface CaseResult {
  id: string;
  label: string;
  path: string;
  runs: CaseRun[];
}

export interface MemoryResult {
  /** RSS of the sidecar after start and login, before any data request, in bytes. */
  sidecarIdleBytes: number;
  /** Largest RSS of the sidecar sampled during its load runs, in bytes. */
  sidecarMaxUnderLoadBytes: number;
  /** RSS of the sidecar a few seconds after the last load run, in bytes. */
  sidecarIdleAfterLoadBytes: number;
  baselineIdleBytes: number;
  baselineMaxUnderLoadBytes: number;
}

export interface TargetCheck {
  name: string;
  goal: string;
  measured: string;
  met: boolean;
  /** How far a missed target is from its goal, such as "+34%". */
  shortfall?: string;
}

export interface BenchResults {
  machine: MachineInfo;
  loadAverageAtEnd: number;
  settings: { messages: number; durationSeconds: number; warmupSeconds: number; connections: number[]; coldStartRuns: number };
  database: BenchDatabase & BenchData;
  coldStartMs: { runs: number[]; median: number; min: number; max: number };
  memory: MemoryResult;
  cases: CaseResult[];
  targets: TargetCheck[];
  totalSeconds: number;
}

export const BEGIN_MARKER = '<!-- bench:results:begin (written by npm run bench; edits between the markers are replaced) -->';
export const END_MARKER = '<!-- bench:results:end -->';

export const TARGETS = {
  minRatio: 0.85,
  ratioConnections: 16,
  maxPageP99Ms: 10,
  maxCursorCostRatio: 1.5,
  maxColdStartMs: 400,
  maxIdleRssMiB: 80,
};

const MIB = 1024 * 1024;

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? Number.NaN) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function runAt(result: CaseResult | undefined, connections: number): CaseRun | undefined {
  return result?.runs.find((run) => run.connections === connections);
}

function percentOver(measured: number, goal: number): string {
  return `+${Math.round(((measured - goal) / goal) * 100)}%`;
}

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

/** Checks every target of the benchmark; a target whose case did not run is reported as missed with "not measured". */
export function checkTargets(
  cases: CaseResult[],
  coldStartMedianMs: number,
  memory: MemoryResult,
): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const byId = new Map(cases.map((result) => [result.id, result]));

  for (const result of cases) {
    const run = runAt(result, TARGETS.ratioConnections);
    const ratio = run?.ratio ?? Number.NaN;
    const met = ratio >= TARGETS.minRatio;
    checks.push({
      name: `${result.label}: sidecar / baseline req/s at ${TARGETS.ratioConnections} connections`,
      goal: `>= ${TARGETS.minRatio}`,
      measured: run ? fixed(ratio, 2) : 'not measured',
      met,
      ...(met || !run ? {} : { shortfall: `${Math.round((1 - ratio / TARGETS.minRatio) * 100)}% below` }),
    });
  }

  const firstPage = runAt(byId.get('messages-first'), TARGETS.ratioConnections);
  const p99 = firstPage?.sidecar.latencyMs.p99 ?? Number.NaN;
  checks.push({
    name: `p99 of a 100-message page at ${TARGETS.ratioConnections} connections`,
    goal: `<= ${TARGETS.maxPageP99Ms} ms`,
    measured: `${fixed(p99, 2)} ms`,
    met: p99 <= TARGETS.maxPageP99Ms,
    ...(p99 > TARGETS.maxPageP99Ms ? { shortfall: percentOver(p99, TARGETS.maxPageP99Ms) } : {}),
  });

  const first = runAt(byId.get('messages-first'), 1)?.sidecar.latencyMs.p50 ?? Number.NaN;
  const cursor = runAt(byId.get('messages-cursor-deep'), 1)?.sidecar.latencyMs.p50 ?? Number.NaN;
  const cursorRatio = cursor / first;
  checks.push({
    name: 'Deep cursor page / first page, p50 latency at 1 connection',
    goal: `<= ${TARGETS.maxCursorCostRatio}x`,
    measured: `${fixed(cursorRatio, 2)}x`,
    met: cursorRatio <= TARGETS.maxCursorCostRatio,
    ...(cursorRatio > TARGETS.maxCursorCostRatio ? { shortfall: percentOver(cursorRatio, TARGETS.maxCursorCostRatio) } : {}),
  });

  checks.push({
    name: 'Cold start, fork to listening (median)',
    goal: `<= ${TARGETS.maxColdStartMs} ms`,
    measured: `${fixed(coldStartMedianMs, 0)} ms`,
    met: coldStartMedianMs <= TARGETS.maxColdStartMs,
    ...(coldStartMedianMs > TARGETS.maxColdStartMs ? { shortfall: percentOver(coldStartMedianMs, TARGETS.maxColdStartMs) } : {}),
  });

  const idleMiB = memory.sidecarIdleBytes / MIB;
  checks.push({
    name: 'Sidecar RSS when idle',
    goal: `<= ${TARGETS.maxIdleRssMiB} MiB`,
    measured: `${fixed(idleMiB, 1)} MiB`,
    met: idleMiB <= TARGETS.maxIdleRssMiB,
    ...(idleMiB > TARGETS.maxIdleRssMiB ? { shortfall: percentOver(idleMiB, TARGETS.maxIdleRssMiB) } : {}),
  });
  return checks;
}

/** Renders a markdown table; the first column is left-aligned, the others right-aligned unless `alignLeft` is set. */
function table(header: string[], rows: string[][], alignLeft = false): string {
  const rule = header.map((_, index) => (index === 0 || alignLeft ? ' --- ' : ' ---: ')).join('|');
  const lines = [`| ${header.join(' | ')} |`, `|${rule}|`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

function mib(bytes: number): string {
  return `${fixed(bytes / MIB, 1)} MiB`;
}

/** Renders the generated part of the results page. */
export function renderResults(results: BenchResults): string {
  const { machine, database, settings } = results;
  const parts: string[] = [];

  parts.push(
    [
      `Run of ${machine.date.slice(0, 16).replace('T', ' ')} UTC, ${results.totalSeconds} s in all.`,
      '',
      table(
        ['Machine', ''],
        [
          ['CPU', `${machine.cpuModel}, ${machine.cores} cores`],
          ['Memory', `${fixed(machine.memoryBytes / 1024 ** 3, 1)} GiB`],
          ['OS', machine.os],
          ['Node.js', machine.node],
          ['SQLite', machine.sqlite],
          ['Load average (1 min) at start / end', `${machine.loadAverageAtStart} / ${results.loadAverageAtEnd}`],
        ],
        true,
      ),
      '',
      `Database: ${database.messages.toLocaleString('en-US')} messages (${settings.messages.toLocaleString('en-US')} generated), ` +
        `${database.reactions.toLocaleString('en-US')} reactions, ${database.attachments.toLocaleString('en-US')} attachments, ` +
        `${mib(database.sizeBytes)} on disk. The message cases read room \`${database.roomId}\` ` +
        `(${database.roomMessages.toLocaleString('en-US')} messages). Each case ran ${settings.durationSeconds} s per connection count ` +
        `${settings.warmupSeconds > 0 ? `after a ${settings.warmupSeconds} s warm-up` : 'without a warm-up'}, ` +
        'with the sidecar and the baseline measured back to back.',
    ].join('\n'),
  );

  for (const connections of settings.connections) {
    const rows = results.cases.map((result) => {
      const run = runAt(result, connections);
      if (!run) return [result.label, ...Array<string>(9).fill('n/a')];
      const failures = run.sidecar.non2xx + run.sidecar.errors + run.baseline.non2xx + run.baseline.errors;
      return [
        failures > 0 ? `${result.label} (${failures} failed requests)` : result.label,
        fixed(run.sidecar.requestsPerSecond, 0),
        fixed(run.baseline.requestsPerSecond, 0),
        fixed(run.ratio, 2),
        fixed(run.sidecar.latencyMs.p50, 2),
        fixed(run.sidecar.latencyMs.p99, 2),
        fixed(run.baseline.latencyMs.p50, 2),
        fixed(run.baseline.latencyMs.p99, 2),
        fixed(run.sidecar.serverCpuUsPerRequest ?? Number.NaN, 0),
        fixed(run.baseline.serverCpuUsPerRequest ?? Number.NaN, 0),
      ];
    });
    parts.push(
      `### ${connections} connection${connections === 1 ? '' : 's'}\n\n` +
        table(
          [
            'Request',
            'Sidecar req/s',
            'Baseline req/s',
            'Ratio',
            'Sidecar p50 ms',
            'Sidecar p99 ms',
            'Baseline p50 ms',
            'Baseline p99 ms',
            'Sidecar CPU µs/req',
            'Baseline CPU µs/req',
          ],
          rows,
        ),
    );
  }

  const byId = new Map(results.cases.map((result) => [result.id, result]));
  const p50At1 = (id: string) => runAt(byId.get(id), 1)?.sidecar.latencyMs.p50 ?? Number.NaN;
  const first = p50At1('messages-first');
  parts.push(
    '### Page depth\n\n' +
      table(
        ['Sidecar, 1 connection', 'p50 ms', 'Cost vs first page'],
        ['messages-first', 'messages-cursor-deep', 'messages-offset-deep'].map((id) => [
          byId.get(id)?.label ?? id,
          fixed(p50At1(id), 2),
          `${fixed(p50At1(id) / first, 2)}x`,
        ]),
      ),
  );

  const cold = results.coldStartMs;
  parts.push(
    '### Start and memory\n\n' +
      table(
        ['Measure', 'Value'],
        [
          [
            `Cold start, fork to listening (${cold.runs.length} runs)`,
            `median ${fixed(cold.median, 0)} ms, min ${fixed(cold.min, 0)} ms, max ${fixed(cold.max, 0)} ms`,
          ],
          ['Sidecar RSS, idle after start and login', mib(results.memory.sidecarIdleBytes)],
          ['Sidecar RSS, max under load', mib(results.memory.sidecarMaxUnderLoadBytes)],
          ['Sidecar RSS, idle after the load runs', mib(results.memory.sidecarIdleAfterLoadBytes)],
          ['Baseline RSS, idle / max under load', `${mib(results.memory.baselineIdleBytes)} / ${mib(results.memory.baselineMaxUnderLoadBytes)}`],
        ],
        true,
      ),
  );

  parts.push(
    '### Targets\n\n' +
      table(
        ['Target', 'Goal', 'Measured', 'Result'],
        results.targets.map((check) => [check.name, check.goal, check.measured, check.met ? 'met' : `missed (${check.shortfall ?? 'not measured'})`]),
        true,
      ),
  );
  return parts.join('\n\n');
}

const NEW_PAGE_HEADER = `# Benchmarks

Run with \`npm run bench\`. The figures below are replaced on every run.

`;

/**
 * Writes the rendered results between the markers of the page at `path`,
 * keeping the text around them; a page without markers gets them appended.
 */
export async function writeResultsPage(path: string, rendered: string): Promise<void> {
  const existing = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return NEW_PAGE_HEADER;
    throw error;
  });
  const section = `${BEGIN_MARKER}\n\n${rendered}\n\n${END_MARKER}`;
  const begin = existing.indexOf(BEGIN_MARKER);
  const end = existing.indexOf(END_MARKER);
  const next =
    begin !== -1 && end > begin
      ? existing.slice(0, begin) + section + existing.slice(end + END_MARKER.length)
      : `${existing.trimEnd()}\n\n${section}\n`;
  await writeFile(path, next);
}
