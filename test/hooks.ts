// Root hooks of the mocha run: temporary folders made by the helpers are removed at the end.

import { removeTempDirs } from './helpers/fixture-db.js';

export const mochaHooks = {
  async afterAll(): Promise<void> {
    await removeTempDirs();
  },
};
