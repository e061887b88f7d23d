// Tests of the headless host's option parsing and printed examples.

import { expect } from 'chai';

import { CliUsageError, DEFAULT_SIGNALING_PORT, HELP_TEXT, parseCliOptions } from '../../../main/node/cli-options.js';
import { createConsoleHostLog, formatLoginExample, shellQuote } from '../../../main/node/cli-output.js';

function usageErrorOf(args: string[]): CliUsageError {
  try {
    parseCliOptions(args);
  } catch (error) {
    if (error instanceof CliUsageError) return error;
    throw error;
  }
  throw new Error(`parseCliOptions(${JSON.stringify(args)}) did not throw`);
}

describe('parseCliOptions', () => {
  it('applies the defaults', () => {
    expect(parseCliOptions([])).to.deep.equal({
      help: false,
      databasePath: null,
      port: 17878,
      exposeOnLan: false,
      allowedServers: [],
      allowedOrigins: [],
      scalarDocs: false,
      docusaurusDocs: false,
      stateDir: 'var',
      signalingPort: DEFAULT_SIGNALING_PORT,
    });
  });

  it('reads every option', () => {
    const options = parseCliOptions([
      '--db',
      'app.sqlite',
      '--port',
      '18000',
      '--lan',
      '--allow-server',
      'https://Chat.Example.com/',
      '--allow-server',
      'http://localhost:17879',
      '--allow-origin',
      'http://localhost:3000',
      '--scalar-docs',
      '--docusaurus-docs',
      '--state-dir',
      '/tmp/state',
    ]);

    expect(options).to.deep.equal({
      help: false,
      databasePath: 'app.sqlite',
      port: 18000,
      exposeOnLan: true,
      allowedServers: ['https://chat.example.com', 'http://localhost:17879'],
      allowedOrigins: ['http://localhost:3000'],
      scalarDocs: true,
      docusaurusDocs: true,
      stateDir: '/tmp/state',
      signalingPort: DEFAULT_SIGNALING_PORT,
    });
  });

  it('accepts signaling port 0', () => {
    expect(parseCliOptions(['--signaling-port', '0']).signalingPort).to.equal(0);
  });

  it('reads -h as help', () => {
    expect(parseCliOptions(['-h']).help).to.equal(true);
  });

  it('removes duplicate servers', () => {
    const options = parseCliOptions(['--allow-server', 'http://localhost:1/', '--allow-server', 'http://LOCALHOST:1']);

    expect(options.allowedServers).to.deep.equal(['http://localhost:1']);
  });

  const badArguments: { args: string[]; message: RegExp }[] = [
    { args: ['--prot', '1'], message: /Unknown option '--prot'/ },
    { args: ['serve'], message: /Unexpected argument 'serve'/ },
    { args: ['--port'], message: /--port/ },
    { args: ['--port', '80'], message: /--port must be a whole number from 1024 to 65535; got "80"/ },
    { args: ['--port', '18000.5'], message: /got "18000\.5"/ },
    { args: ['--port', '0x4000'], message: /got "0x4000"/ },
    { args: ['--port', '70000'], message: /got "70000"/ },
    { args: ['--signaling-port', '-1'], message: /--signaling-port/ },
    { args: ['--signaling-port', '65536'], message: /--signaling-port must be a whole number from 0 to 65535/ },
    { args: ['--allow-server', 'http://chat.example.com'], message: /--allow-server: .*must use https/ },
    { args: ['--allow-server', 'not a url'], message: /--allow-server: .*not a valid URL/ },
    { args: ['--allow-origin', 'http://localhost:3000/app'], message: /--allow-origin: .*origin only/ },
    { args: ['--db', ''], message: /--db must name a file/ },
    { args: ['--state-dir', ' '], message: /--state-dir must name a folder/ },
    { args: ['--db', 'a.sqlite', '--signaling-port', '1'], message: /--signaling-port applies only to the demo setup/ },
    { args: ['--lan=yes'], message: /--lan/ },
  ];
  for (const { args, message } of badArguments) {
    it(`rejects ${args.map((arg) => (arg.trim() === '' ? `'${arg}'` : arg)).join(' ')}`, () => {
      expect(usageErrorOf(args).message).to.match(message);
    });
  }
});

describe('HELP_TEXT', () => {
  it('lists every option with its default', () => {
    for (const option of [
      '--db PATH',
      '--port N',
      '--lan',
      '--allow-server URL',
      '--allow-origin ORIGIN',
      '--scalar-docs',
      '--docusaurus-docs',
      '--state-dir DIR',
      '--signaling-port N',
      '--help',
    ]) {
      expect(HELP_TEXT).to.contain(option);
    }
    expect(HELP_TEXT).to.contain('Default: 17878');
    expect(HELP_TEXT).to.contain('Default: 17879');
    expect(HELP_TEXT).to.contain('Default: var/');
  });
});

describe('shellQuote', () => {
  it('quotes single quotes', () => {
    expect(shellQuote("it's")).to.equal(`'it'\\''s'`);
  });
});

describe('formatLoginExample', () => {
  it('prints demo credentials', () => {
    const text = formatLoginExample({
      baseUrl: 'http://127.0.0.1:17878',
      serverUrl: 'http://127.0.0.1:17879',
      credentials: { username: 'alice', password: 'correct horse battery staple' },
    });

    expect(text).to.contain(`curl -s -X POST 'http://127.0.0.1:17878/api/auth/login'`);
    expect(text).to.contain(
      `'{"username":"alice","password":"correct horse battery staple","serverUrl":"http://127.0.0.1:17879"}'`,
    );
    expect(text).to.contain(`curl -s 'http://127.0.0.1:17878/api/profile' -H "Authorization: Bearer $TOKEN"`);
  });

  it('prints placeholders without demo credentials', () => {
    const text = formatLoginExample({
      baseUrl: 'http://127.0.0.1:17878',
      serverUrl: 'https://chat.example.com',
      credentials: null,
    });

    expect(text).to.contain('"username":"YOUR_USERNAME","password":"YOUR_PASSWORD"');
  });

  it('explains a missing allowed server', () => {
    const text = formatLoginExample({ baseUrl: 'http://127.0.0.1:17878', serverUrl: null, credentials: null });

    expect(text).to.contain('NO_ALLOWED_SERVERS');
    expect(text).to.contain('--allow-server');
    expect(text).to.not.contain('/api/auth/login');
  });
});

describe('createConsoleHostLog', () => {
  it('prints fields and splits streams', () => {
    const out: string[] = [];
    const err: string[] = [];
    const log = createConsoleHostLog({ out: (text) => out.push(text), err: (text) => err.push(text) });

    log.info({ pid: 12, message: 'Listening on port 1.', reason: undefined }, 'status changed');
    log.warn({ code: 1 }, 'sidecar exited unexpectedly');
    log.error({}, 'sidecar crashed too often');

    expect(out).to.deep.equal(['[host] status changed pid=12 message="Listening on port 1."\n']);
    expect(err).to.deep.equal([
      '[host] warning: sidecar exited unexpectedly code=1\n',
      '[host] error: sidecar crashed too often\n',
    ]);
  });
});
