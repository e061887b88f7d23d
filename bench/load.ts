// One load run: autocannon against one URL at a fixed number of connections, with latency percentiles at microsecond resolution.

import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  headers?: Record<string, string>;
  connections: number;
  durationSeconds: number;
}

export interface LoadResult {
  connections: number;
  durationSeconds: number;
  /** Responses with a 2xx status per second of the run. */
  requestsPerSecond: number;
  /** Latency percentiles of the 2xx responses, in milliseconds. */
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  responses2xx: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
}

/** Maximum time a request may take before autocannon counts it as a timeout, in seconds; 64 queued deep-offset pages take about 2 s. */
const REQUEST_TIMEOUT_SECONDS = 30;

/** Returns the value below which `fraction` of the sorted samples fall (nearest-rank method). */
export function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(fraction * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? Number.NaN;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/**
 * Runs autocannon and records the latency of every 2xx response itself,
 * because autocannon's own histogram keeps whole milliseconds, too coarse
 * for sub-millisecond medians.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        headers: options.headers,
        connections: options.connections,
        duration: options.durationSeconds,
        timeout: REQUEST_TIMEOUT_SECONDS,
      },
      (error: Error | null, finished: autocannon.Result) => (error ? reject(error) : resolve(finished)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
  });

  const sorted = Float64Array.from(latencies).sort();
  const mean = sorted.length === 0 ? Number.NaN : sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  return {
    connections: options.connections,
    durationSeconds: result.duration,
    requestsPerSecond: round(result['2xx'] / result.duration, 1),
    latencyMs: {
      mean: round(mean, 3),
      p50: round(percentile(sorted, 0.5), 3),
      p90: round(percentile(sorted, 0.9), 3),
      p99: round(percentile(sorted, 0.99), 3),
      max: round(sorted.at(-1) ?? Number.NaN, 3),
    },
    responses2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
  };
}
