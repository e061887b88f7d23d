// Facts about the machine and its processes that the benchmark records next to its figures.

import { readFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem, release, platform } from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  os: string;
  node: string;
  sqlite: string;
  /** ISO 8601 start time of the run. */
  date: string;
  /** One-minute load average before the run started anything; a value near `cores` means other processes competed for the CPU. */
  loadAverageAtStart: number;
}

export function describeMachine(facts: Pick<MachineInfo, 'sqlite' | 'date' | 'loadAverageAtStart'>): MachineInfo {
  const processors = cpus();
  return {
    cpuModel: processors[0]?.model.trim() ?? 'unknown',
    cores: processors.length,
    memoryBytes: totalmem(),
    os: `${platform()} ${release()}`,
    node: process.version,
    ...facts,
  };
}

export function oneMinuteLoad(): number {
  return Math.round((loadavg()[0] ?? 0) * 100) / 100;
}

/**
 * Reads the resident set size of a process from the VmRSS line of
 * /proc/PID/status (Linux only), in bytes; undefined when the process is gone.
 */
export async function readRssBytes(pid: number): Promise<number | undefined> {
  let status: string;
  try {
    status = await readFile(`/proc/${pid}/status`, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
}

/**
 * Reads the CPU time a process has used so far, user plus system, in
 * milliseconds, from /proc/PID/stat (Linux only). The kernel reports it in
 * USER_HZ ticks, 100 per second on common Linux builds (`getconf CLK_TCK`).
 */
export async function readCpuTimeMs(pid: number): Promise<number | undefined> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  // The command name in field 2 may contain spaces, so the fields are counted after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const userTicks = Number(fields[11]);
  const systemTicks = Number(fields[12]);
  return Number.isFinite(userTicks) && Number.isFinite(systemTicks) ? (userTicks + systemTicks) * 10 : undefined;
}

/** Samples the RSS of a process at a fixed interval and keeps the maximum, for memory under load. */
export class RssSampler {
  private maxBytes = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 200,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.sample(), this.intervalMs);
    void this.sample();
  }

  /** Stops sampling and returns the largest RSS seen since start, in bytes. */
  async stop(): Promise<number> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sample();
    return this.maxBytes;
  }

  private async sample(): Promise<void> {
    const bytes = await readRssBytes(this.pid);
    if (bytes !== undefined && bytes > this.maxBytes) this.maxBytes = bytes;
  }
}
