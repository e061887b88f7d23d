// The shared settings schema: defaults, ranges, URL normalization and rejection messages.

import { expect } from 'chai';

import { DEFAULT_SETTINGS, InvalidSettingsError, normalizeOrigin, normalizeServerUrl, parseSettings } from '../../shared/settings.js';

function errorsOf(input: unknown): string[] {
  try {
    parseSettings(input);
  } catch (error) {
    if (error instanceof InvalidSettingsError) return error.errors;
    throw error;
  }
  return [];
}

describe('parseSettings', () => {
  it('fills every default for an empty object', () => {
    expect(parseSettings({})).to.deep.equal(DEFAULT_SETTINGS);
    expect(parseSettings(undefined)).to.deep.equal(DEFAULT_SETTINGS);
  });

  it('defaults the port to 17878', () => {
    expect(parseSettings({ enabled: true }).port).to.equal(17878);
  });

  it('accepts ports 1024 to 65535 only', () => {
    expect(parseSettings({ port: 1024 }).port).to.equal(1024);
    expect(parseSettings({ port: 65535 }).port).to.equal(65535);
    for (const port of [0, 80, 1023, 65536, 17878.5, '17878', Number.NaN]) {
      expect(errorsOf({ port }), String(port)).to.have.length.greaterThan(0);
    }
  });

  it('normalizes and de-duplicates allowed servers', () => {
    const settings = parseSettings({ allowedServers: ['HTTPS://Signal.Example.com:443/', 'https://signal.example.com', 'http://localhost:9000/'] });
    expect(settings.allowedServers).to.deep.equal(['https://signal.example.com', 'http://localhost:9000']);
  });

  it('requires https except for loopback hosts', () => {
    expect(errorsOf({ allowedServers: ['http://signal.example.com'] })[0]).to.match(/must use https/);
    expect(parseSettings({ allowedServers: ['http://127.0.0.1:8080', 'http://[::1]:1'] }).allowedServers).to.have.length(2);
  });

  it('rejects URLs with credentials, queries or other schemes', () => {
    for (const url of ['https://user:pw@signal.test', 'https://signal.test/?a=1', 'https://signal.test/#x', 'ftp://signal.test', 'not a url']) {
      expect(errorsOf({ allowedServers: [url] }), url).to.have.length(1);
    }
  });

  it('rejects unknown keys and wrong types', () => {
    expect(errorsOf({ colour: 'blue' })[0]).to.match(/Unknown setting/);
    expect(errorsOf({ enabled: 'yes' })).to.have.length(1);
    expect(errorsOf({ allowedServers: 'https://signal.test' })).to.have.length(1);
    expect(errorsOf('enabled')[0]).to.match(/must be an object/);
  });
});

describe('normalizeServerUrl', () => {
  it('drops default ports and trailing slashes', () => {
    expect(normalizeServerUrl('https://signal.test:443/base/')).to.equal('https://signal.test/base');
    expect(normalizeServerUrl(' https://signal.test:8443 ')).to.equal('https://signal.test:8443');
  });
});

describe('normalizeOrigin', () => {
  it('keeps scheme, host and port only', () => {
    expect(normalizeOrigin('http://LOCALHOST:3000/')).to.equal('http://localhost:3000');
    expect(normalizeOrigin('chrome-extension://abcdefghijklmnop')).to.equal('chrome-extension://abcdefghijklmnop');
    expect(() => normalizeOrigin('http://localhost:3000/path')).to.throw(/origin only/);
  });
});
