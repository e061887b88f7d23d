// Tests of the crash window and the restart backoff.

import { expect } from 'chai';

import { CrashTracker } from '../../../main/host/restart-policy.js';

describe('CrashTracker', () => {
  it('doubles the delay per crash', () => {
    const tracker = new CrashTracker();

    const decisions = [0, 1, 2, 3].map((second) => tracker.recordCrash(second * 1000));

    expect(decisions).to.deep.equal([
      { action: 'restart', delayMs: 100, crashes: 1 },
      { action: 'restart', delayMs: 200, crashes: 2 },
      { action: 'restart', delayMs: 400, crashes: 3 },
      { action: 'restart', delayMs: 800, crashes: 4 },
    ]);
  });

  it('gives up at the fifth crash in the window', () => {
    const tracker = new CrashTracker();
    for (let crash = 0; crash < 4; crash += 1) tracker.recordCrash(crash);

    expect(tracker.recordCrash(59_000)).to.deep.equal({ action: 'give-up', crashes: 5 });
  });

  it('drops crashes older than the window', () => {
    const tracker = new CrashTracker();
    for (let crash = 0; crash < 4; crash += 1) tracker.recordCrash(crash);

    expect(tracker.recordCrash(60_003)).to.deep.equal({ action: 'restart', delayMs: 100, crashes: 1 });
  });

  it('caps the delay', () => {
    const tracker = new CrashTracker({ initialDelayMs: 100, maxDelayMs: 5_000, maxCrashes: 100, windowMs: 60_000 });

    const delays = Array.from({ length: 9 }, (_, crash) => tracker.recordCrash(crash));

    expect(delays.map((decision) => (decision.action === 'restart' ? decision.delayMs : null))).to.deep.equal([
      100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000, 5_000,
    ]);
  });

  it('starts over after reset', () => {
    const tracker = new CrashTracker();
    for (let crash = 0; crash < 4; crash += 1) tracker.recordCrash(crash);

    tracker.reset();

    expect(tracker.recordCrash(10)).to.deep.equal({ action: 'restart', delayMs: 100, crashes: 1 });
  });
});
