// Entry point of `npm run bench`: builds or reuses the database, starts both servers, runs every case and writes the results.

import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { isMainModule, UsageError } from '../fixtures/cli-support.js';
import { describeBenchData, ensureBenchDatabase, sqliteVersion } from './bench-data.js';
import { assertSameBodies, buildCases, fetchDeepCursor } from './cases.js';
import { runLoad } from './load.js';
import { HELP, parseBenchOptions, PROJECT_ROOT } from './options.js';
import { checkTargets, median, renderResults, writeResultsPage } from './report.js';
import { LogTail, measureColdStarts, startBaseline, startSidecar } from './servers.js';
import { describeMachine, oneMinuteLoad, readCpuTimeMs, readRssBytes, RssSampler } from './system-info.js';

import type { BenchData, BenchDatabase } from './bench-data.js';
import type { BenchCase } from './cases.js';
import type { BenchOptions } from './options.js';
import type { BenchResults, CaseResult, CaseRun, MemoryResult, ServerRun } from './report.js';
import type { ServerUnderTest } from './servers.js';
import type { MachineInfo } from './system-info.js';

/** Pause before an idle RSS reading, so that start-up garbage can be collected, in ms. */
const SETTLE_MS = 2_000;
/** Connections of the warm-up runs. */
const WARMUP_CONNECTIONS = 16;

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

function summary(result: ServerRun): string {
  const failed = result.non2xx + result.errors;
  const cpu = result.serverCpuUsPerRequest === null ? '' : `, ${result.serverCpuUsPerRequest} µs CPU/req`;
  return `${result.requestsPerSecond.toFixed(0)} req/s, p50 ${result.latencyMs.p50.toFixed(2)} ms, p99 ${result.latencyMs.p99.toFixed(2)} ms${cpu}` +
    (failed > 0 ? `, ${failed} FAILED` : '');
}

async function requireRss(pid: number, name: string): Promise<number> {
  const bytes = await readRssBytes(pid);
  if (bytes === undefined) throw new Error(`The ${name} process ${pid} is gone; it cannot be measured.`);
  return bytes;
}

interface LoadPeaks {
  sidecar: number;
  baseline: number;
}

async function measure(server: ServerUnderTest, benchCase: BenchCase, connections: number, seconds: number, peaks: LoadPeaks): Promise<ServerRun> {
  const sampler = new RssSampler(server.pid);
  sampler.start();
  try {
    const cpuBefore = await readCpuTimeMs(server.pid);
    const result = await runLoad({ url: server.baseUrl + benchCase.path, headers: server.headers, connections, durationSeconds: seconds });
    const cpuAfter = await readCpuTimeMs(server.pid);
    const responses = result.responses2xx + result.non2xx;
    const cpuUs = cpuBefore === undefined || cpuAfter === undefined || responses === 0 ? null : ((cpuAfter - cpuBefore) * 1000) / responses;
    return { ...result, serverCpuUsPerRequest: cpuUs === null ? null : Math.round(cpuUs) };
  } finally {
    const peak = await sampler.stop();
    peaks[server.name] = Math.max(peaks[server.name], peak);
  }
}

/**
 * Runs every case at every connection count. The two servers run back to
 * back for each pair, in alternating order, so that a change in the
 * machine's background load hits both about equally.
 */
async function runCases(
  cases: BenchCase[],
  servers: { sidecar: ServerUnderTest; baseline: ServerUnderTest },
  options: BenchOptions,
  peaks: LoadPeaks,
): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  let turn = 0;
  for (const benchCase of cases) {
    print(`\n${benchCase.label}: GET ${benchCase.path}`);
    if (options.warmupSeconds > 0) {
      for (const server of [servers.sidecar, servers.baseline]) {
        await measure(server, benchCase, WARMUP_CONNECTIONS, options.warmupSeconds, peaks);
      }
    }
    const runs: CaseRun[] = [];
    for (const connections of options.connections) {
      const order = turn % 2 === 0 ? [servers.sidecar, servers.baseline] : [servers.baseline, servers.sidecar];
      turn += 1;
      const measured = new Map<string, ServerRun>();
      for (const server of order) {
        measured.set(server.name, await measure(server, benchCase, connections, options.durationSeconds, peaks));
      }
      const sidecar = measured.get('sidecar') as ServerRun;
      const baseline = measured.get('baseline') as ServerRun;
      const ratio = Math.round((sidecar.requestsPerSecond / baseline.requestsPerSecond) * 100) / 100;
      runs.push({ connections, sidecar, baseline, ratio });
      print(`  ${String(connections).padStart(3)} conn  sidecar ${summary(sidecar)}`);
      print(`            baseline ${summary(baseline)}  (ratio ${ratio.toFixed(2)})`);
    }
    results.push({ id: benchCase.id, label: benchCase.label, path: benchCase.path, runs });
  }
  return results;
}

interface Prepared {
  database: BenchDatabase;
  data: BenchData;
  machine: MachineInfo;
}

/** Builds or reuses the database and reads what the cases need and the machine's facts. */
async function prepare(options: BenchOptions): Promise<Prepared> {
  const date = new Date().toISOString();
  // Read before the database build, whose own CPU use would raise it.
  const loadAverageAtStart = oneMinuteLoad();

  print(`Preparing the database with ${options.messages.toLocaleString('en-US')} generated messages under ${relative(PROJECT_ROOT, options.databaseDir)}/ ...`);
  const database = await ensureBenchDatabase(options.databaseDir, options.messages);
  print(database.built ? `Built ${database.path} in ${database.buildSeconds} s.` : `Reusing ${database.path}.`);
  const data = await describeBenchData(database.path);

  const machine = describeMachine({ sqlite: await sqliteVersion(database.path), date, loadAverageAtStart });
  print(`${machine.cpuModel}, ${machine.cores} cores, Node.js ${machine.node}, load average ${machine.loadAverageAtStart} at start.`);
  if (machine.loadAverageAtStart > machine.cores / 2) {
    print(
      `Warning: the load average (${machine.loadAverageAtStart}) shows other busy processes, or a build that just ended; ` +
        'figures will be lower and noisier than on an idle machine.',
    );
  }
  return { database, data, machine };
}

interface ServerMeasurements {
  coldRuns: number[];
  memory: MemoryResult;
  cases: CaseResult[];
}

/** Times the cold starts, then starts both servers and runs every case against them; stops them in every case. */
async function measureServers(prepared: Prepared, options: BenchOptions, logs: LogTail): Promise<ServerMeasurements> {
  const { database, data } = prepared;
  let sidecar: ServerUnderTest | undefined;
  let baseline: ServerUnderTest | undefined;
  try {
    print(`\nTiming ${options.coldStartRuns} sidecar cold starts ...`);
    const coldRuns = await measureColdStarts(database.path, options.coldStartRuns, logs);
    print(`  ${coldRuns.map((ms) => ms.toFixed(0)).join(', ')} ms`);

    sidecar = await startSidecar(database.path, logs);
    baseline = await startBaseline(database.path, logs);
    await sleep(SETTLE_MS);
    const memory: MemoryResult = {
      sidecarIdleBytes: await requireRss(sidecar.pid, 'sidecar'),
      sidecarMaxUnderLoadBytes: 0,
      sidecarIdleAfterLoadBytes: 0,
      baselineIdleBytes: await requireRss(baseline.pid, 'baseline'),
      baselineMaxUnderLoadBytes: 0,
    };
    print(`Sidecar pid ${sidecar.pid} at ${sidecar.baseUrl}, baseline pid ${baseline.pid} at ${baseline.baseUrl}.`);

    const cases = buildCases(data, await fetchDeepCursor(sidecar, data));
    await assertSameBodies(cases, sidecar, baseline);
    print('Both servers return the same body for every case.');

    const peaks: LoadPeaks = { sidecar: 0, baseline: 0 };
    const caseResults = await runCases(cases, { sidecar, baseline }, options, peaks);
    memory.sidecarMaxUnderLoadBytes = peaks.sidecar;
    memory.baselineMaxUnderLoadBytes = peaks.baseline;
    await sleep(SETTLE_MS);
    memory.sidecarIdleAfterLoadBytes = await requireRss(sidecar.pid, 'sidecar');
    return { coldRuns, memory, cases: caseResults };
  } catch (error) {
    process.stderr.write(`Last lines of the servers and the host:\n${logs.text()}\n`);
    throw error;
  } finally {
    await Promise.allSettled([sidecar?.stop(), baseline?.stop()]);
  }
}

async function runBenchmark(options: BenchOptions): Promise<BenchResults> {
  const started = performance.now();
  const prepared = await prepare(options);
  const { coldRuns, memory, cases } = await measureServers(prepared, options, new LogTail());

  const coldStartMedian = median(coldRuns);
  return {
    machine: prepared.machine,
    loadAverageAtEnd: oneMinuteLoad(),
    settings: {
      messages: options.messages,
      durationSeconds: options.durationSeconds,
      warmupSeconds: options.warmupSeconds,
      connections: options.connections,
      coldStartRuns: options.coldStartRuns,
    },
    database: { ...prepared.database, ...prepared.data },
    coldStartMs: { runs: coldRuns, median: coldStartMedian, min: Math.min(...coldRuns), max: Math.max(...coldRuns) },
    memory,
    cases,
    targets: checkTargets(cases, coldStartMedian, memory),
    totalSeconds: Math.round((performance.now() - started) / 1000),
  };
}

async function writeResults(results: BenchResults, options: BenchOptions): Promise<void> {
  await mkdir(options.resultsDir, { recursive: true });
  const json = `${JSON.stringify(results, null, 2)}\n`;
  const stamp = results.machine.date.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z');
  const files = [join(options.resultsDir, `bench-${stamp}.json`), join(options.resultsDir, 'latest.json')];
  for (const file of files) await writeFile(file, json);
  print(`\nRaw results: ${relative(PROJECT_ROOT, files[0] ?? '')}`);

  const rendered = renderResults(results);
  if (options.pagePath !== null) {
    await writeResultsPage(options.pagePath, rendered);
    print(`Results page: ${options.pagePath}`);
  }
  print('');
  for (const check of results.targets) {
    print(`${check.met ? 'met   ' : 'MISSED'} ${check.name}: ${check.measured} (goal ${check.goal})`);
  }
}

/** Runs the command line; resolves to the exit status: 0 when the run finished, 1 when it failed, 2 for bad options. */
export async function main(args: string[]): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseBenchOptions(args);
  } catch (error) {
    const isParseError = typeof (error as NodeJS.ErrnoException).code === 'string';
    if (!(error instanceof UsageError) && !isParseError) throw error;
    process.stderr.write(`${(error as Error).message}\nRun "npm run bench -- --help" to list the options.\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(HELP);
    return 0;
  }
  try {
    await writeResults(await runBenchmark(options), options);
    return 0;
  } catch (error) {
    process.stderr.write(`The benchmark failed: ${(error as Error).message}\n`);
    return 1;
  }
}

if (isMainModule(import.meta.url)) {
  void main(process.argv.slice(2)).then((status) => {
    // Exit explicitly: autocannon can leave sockets that would keep the process alive after the run.
    process.exit(status);
  });
}
