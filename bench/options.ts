// Command-line options of the benchmark (`npm run bench -- --help`).

import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { MAX_GENERATED_MESSAGES } from '../fixtures/generate.js';
import { parseWholeNumber, UsageError } from '../fixtures/cli-support.js';

export interface BenchOptions {
  messages: number;
  durationSeconds: number;
  warmupSeconds: number;
  connections: number[];
  coldStartRuns: number;
  /** Folder of the benchmark databases, one file per message count. */
  databaseDir: string;
  /** Folder of the raw JSON results. */
  resultsDir: string;
  /** Markdown page that receives the results table, or null to skip it. */
  pagePath: string | null;
  help: boolean;
}

/** The repository root, two levels above dist/bench/. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const MAX_CONNECTIONS = 1024;

export const HELP = `Usage: npm run bench -- [options]

Measures the local API sidecar against a bare node:http + sqlite3 baseline
on a large generated database: requests per second, p50/p99 latency and
server CPU per request for each route and connection count, the cold start
and the resident memory. Writes the raw results to bench/results/ and the
tables to docs/benchmarks.md. Only loopback addresses are used.

Options:
  --messages N        Generated messages in the database, from 1000 to
                      ${MAX_GENERATED_MESSAGES}. The file is built on the first run and
                      reused by later runs with the same N. Default: 1000000.
  --duration S        Seconds of load per case and connection count, 1 to 60.
                      Default: 4.
  --warmup S          Seconds of warm-up load per case and server before the
                      measured runs, 0 to 60. Default: 2.
  --connections LIST  Comma-separated connection counts, each 1 to ${MAX_CONNECTIONS}.
                      Default: 1,16,64.
  --cold-starts N     Sidecar starts to time, 1 to 50. Default: 10.
  --page PATH         Markdown page to write the results into, relative to the
                      working folder; "none" skips it. Default: the
                      repository's docs/benchmarks.md.
  -h, --help          Print this help and exit.
`;

function parseConnections(text: string): number[] {
  const values = text.split(',').map((part) => parseWholeNumber('--connections', part.trim(), 1, MAX_CONNECTIONS));
  return [...new Set(values)].sort((a, b) => a - b);
}

/** Parses the command line; throws UsageError or the TypeError of parseArgs for bad options. */
export function parseBenchOptions(args: string[]): BenchOptions {
  const { values } = parseArgs({
    args,
    options: {
      messages: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      'cold-starts': { type: 'string' },
      page: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  const page = values.page;
  if (page !== undefined && page.trim() === '') throw new UsageError('Invalid --page "": name a markdown file, or "none" to skip the page.');
  return {
    messages: values.messages === undefined ? 1_000_000 : parseWholeNumber('--messages', values.messages, 1_000, MAX_GENERATED_MESSAGES),
    durationSeconds: values.duration === undefined ? 4 : parseWholeNumber('--duration', values.duration, 1, 60),
    warmupSeconds: values.warmup === undefined ? 2 : parseWholeNumber('--warmup', values.warmup, 0, 60),
    connections: values.connections === undefined ? [1, 16, 64] : parseConnections(values.connections),
    coldStartRuns: values['cold-starts'] === undefined ? 10 : parseWholeNumber('--cold-starts', values['cold-starts'], 1, 50),
    databaseDir: resolve(PROJECT_ROOT, 'var/bench'),
    resultsDir: resolve(PROJECT_ROOT, 'bench/results'),
    pagePath: page === undefined ? resolve(PROJECT_ROOT, 'docs/benchmarks.md') : page === 'none' ? null : resolve(page),
    help: values.help ?? false,
  };
}
