// Tests of the file and memory settings stores: defaults, round trips, damaged files and atomic writes.

import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect } from 'chai';

import { FileSettingsStore, MemorySettingsStore } from '../../../main/host/settings-store.js';
import { DEFAULT_SETTINGS, InvalidSettingsError } from '../../../shared/settings.js';
import { RecordingLog } from './fake-sidecar.js';

describe('FileSettingsStore', () => {
  let tempDir: string;
  let path: string;
  let log: RecordingLog;

  beforeEach(async () => {
    tempDir = await mkdtemp(join(tmpdir(), 'settings-store-'));
    path = join(tempDir, 'user-data', 'local-api-settings.json');
    log = new RecordingLog();
  });

  afterEach(async () => {
    await rm(tempDir, { recursive: true, force: true });
  });

  it('loads defaults without a file', async () => {
    const settings = await new FileSettingsStore(path, log).load();

    expect(settings).to.deep.equal(DEFAULT_SETTINGS);
    expect(log.entries).to.have.length(0);
  });

  it('round-trips saved settings', async () => {
    const store = new FileSettingsStore(path, log);
    const saved = { ...DEFAULT_SETTINGS, enabled: true, port: 19000, allowedServers: ['https://chat.example.com'] };

    await store.save(saved);

    expect(await new FileSettingsStore(path, log).load()).to.deep.equal(saved);
    expect(JSON.parse(await readFile(path, 'utf8'))).to.deep.equal(saved);
  });

  it('writes mode 0600 with no temporary file left', async () => {
    const store = new FileSettingsStore(path, log);

    await store.save({ ...DEFAULT_SETTINGS });
    await store.save({ ...DEFAULT_SETTINGS, port: 19001 });

    expect((await stat(path)).mode & 0o777).to.equal(0o600);
    expect(await readdir(join(tempDir, 'user-data'))).to.deep.equal(['local-api-settings.json']);
  });

  it('falls back to defaults on broken JSON', async () => {
    await new FileSettingsStore(path, log).save({ ...DEFAULT_SETTINGS });
    await writeFile(path, '{"port": 1800');

    const settings = await new FileSettingsStore(path, log).load();

    expect(settings).to.deep.equal(DEFAULT_SETTINGS);
    const warning = log.find(/settings file is invalid/);
    expect(warning?.level).to.equal('warn');
    expect(warning?.fields.path).to.equal(path);
  });

  it('falls back to defaults on invalid values', async () => {
    await new FileSettingsStore(path, log).save({ ...DEFAULT_SETTINGS });
    await writeFile(path, JSON.stringify({ enabled: true, port: 80 }));

    const settings = await new FileSettingsStore(path, log).load();

    expect(settings).to.deep.equal(DEFAULT_SETTINGS);
    expect(String(log.find(/settings file is invalid/)?.fields.error)).to.contain('Port must be between');
  });

  it('falls back to defaults on a JSON array', async () => {
    await new FileSettingsStore(path, log).save({ ...DEFAULT_SETTINGS });
    await writeFile(path, '[{"enabled": true}]');

    expect(await new FileSettingsStore(path, log).load()).to.deep.equal(DEFAULT_SETTINGS);
    expect(log.find(/settings file is invalid/)).to.not.equal(undefined);
  });

  it('fills missing fields with defaults', async () => {
    await new FileSettingsStore(path, log).save({ ...DEFAULT_SETTINGS });
    await writeFile(path, JSON.stringify({ enabled: true }));

    expect(await new FileSettingsStore(path, log).load()).to.deep.equal({ ...DEFAULT_SETTINGS, enabled: true });
  });

  it('rejects saving invalid settings', async () => {
    const store = new FileSettingsStore(path, log);

    let caught: unknown;
    try {
      await store.save({ ...DEFAULT_SETTINGS, port: 70_000 });
    } catch (error) {
      caught = error;
    }

    expect(caught).to.be.instanceOf(InvalidSettingsError);
    expect(await store.load()).to.deep.equal(DEFAULT_SETTINGS);
  });
});

describe('MemorySettingsStore', () => {
  it('returns copies', async () => {
    const store = new MemorySettingsStore({ allowedServers: ['http://localhost:17879'] });

    const first = await store.load();
    first.allowedServers.push('https://changed.example.com');

    expect((await store.load()).allowedServers).to.deep.equal(['http://localhost:17879']);
  });

  it('rejects invalid initial settings', () => {
    expect(() => new MemorySettingsStore({ port: 22 })).to.throw(InvalidSettingsError);
  });
});
