// Tests of the discovery file: content, file mode, ordering of writes and removals, and failures.

import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect } from 'chai';

import { DiscoveryFile, readDiscoveryFile } from '../../../main/host/discovery-file.js';
import { RecordingLog } from './fake-sidecar.js';

import type { DiscoveryInfo } from '../../../main/host/discovery-file.js';

function info(port: number): DiscoveryInfo {
  return {
    port,
    pid: 321,
    baseUrl: `http://127.0.0.1:${port}`,
    addresses: ['127.0.0.1'],
    startedAt: '2025-01-02T03:04:05.000Z',
  };
}

describe('DiscoveryFile', () => {
  let tempDir: string;
  let log: RecordingLog;

  beforeEach(async () => {
    tempDir = await mkdtemp(join(tmpdir(), 'discovery-file-'));
    log = new RecordingLog();
  });

  afterEach(async () => {
    await rm(tempDir, { recursive: true, force: true });
  });

  it('writes the info with mode 0600', async () => {
    const path = join(tempDir, 'var', 'local-api.json');
    const file = new DiscoveryFile(path, log);

    await file.write(info(17878));

    expect(await readDiscoveryFile(path)).to.deep.equal(info(17878));
    expect((await stat(path)).mode & 0o777).to.equal(0o600);
    expect(await readdir(join(tempDir, 'var'))).to.deep.equal(['local-api.json']);
  });

  it('applies operations in call order', async () => {
    const path = join(tempDir, 'local-api.json');
    const file = new DiscoveryFile(path, log);

    void file.write(info(17001));
    void file.remove();
    void file.write(info(17002));
    void file.remove();
    await file.settled();
    expect(await readDiscoveryFile(path)).to.equal(null);

    void file.remove();
    void file.write(info(17003));
    await file.settled();
    expect((await readDiscoveryFile(path))?.port).to.equal(17003);
  });

  it('removes a missing file quietly', async () => {
    const file = new DiscoveryFile(join(tempDir, 'missing.json'), log);

    await file.remove();

    expect(log.entries).to.have.length(0);
  });

  it('logs a failed write and goes on', async () => {
    // A folder in place of the file makes the rename fail.
    const path = join(tempDir, 'occupied');
    await mkdir(join(path, 'child'), { recursive: true });
    const file = new DiscoveryFile(path, log);

    await file.write(info(17004));

    const entry = log.find('discovery file operation failed');
    expect(entry?.level).to.equal('error');
    expect(entry?.fields).to.include({ path, operation: 'write' });
    expect(await readdir(tempDir), 'temporary file removed').to.deep.equal(['occupied']);
  });
});
