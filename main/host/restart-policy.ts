// Restart policy after a sidecar crash: exponential backoff, and a stop after too many crashes in a window.

export interface RestartPolicyOptions {
  /** Delay before the first restart, in ms. */
  initialDelayMs: number;
  /** Cap of the doubling delay, in ms. */
  maxDelayMs: number;
  /** Crashes within `windowMs` after which the host stops restarting. */
  maxCrashes: number;
  /** Length of the sliding crash window, in ms. */
  windowMs: number;
}

/** A short first delay brings a killed sidecar back well within a second. */
export const DEFAULT_RESTART_POLICY: Readonly<RestartPolicyOptions> = Object.freeze({
  initialDelayMs: 100,
  maxDelayMs: 5_000,
  maxCrashes: 5,
  windowMs: 60_000,
});

export type RestartDecision = { action: 'restart'; delayMs: number; crashes: number } | { action: 'give-up'; crashes: number };

/** Counts crashes in a sliding window and decides whether and when to restart. */
export class CrashTracker {
  private crashTimes: number[] = [];

  constructor(private readonly options: RestartPolicyOptions = DEFAULT_RESTART_POLICY) {}

  /**
   * Records a crash at `now` (ms). The delay doubles with each crash still in
   * the window: 100, 200, 400 ms and so on with the defaults, up to `maxDelayMs`.
   */
  recordCrash(now: number): RestartDecision {
    this.crashTimes = this.crashTimes.filter((time) => now - time < this.options.windowMs);
    this.crashTimes.push(now);
    const crashes = this.crashTimes.length;
    if (crashes >= this.options.maxCrashes) return { action: 'give-up', crashes };
    const delayMs = Math.min(this.options.initialDelayMs * 2 ** (crashes - 1), this.options.maxDelayMs);
    return { action: 'restart', delayMs, crashes };
  }

  reset(): void {
    this.crashTimes = [];
  }
}
