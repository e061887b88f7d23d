// Root hooks of the mocha run: the in-process sidecar logger is silenced, and temporary folders are removed at the end.

import { logger } from '../sidecar/log.js';
import { removeTempDirs } from './helpers/fixture-db.js';

// Child processes keep their own log level; only this process's lines would drown the test report.
logger.level = process.env.LOCAL_API_TEST_LOG_LEVEL ?? 'silent';

export const mochaHooks = {
  async afterAll(): Promise<void> {
    await removeTempDirs();
  },
};
