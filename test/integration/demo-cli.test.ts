// The headless host as a user runs it: start it, run the login curl it prints, then every reference curl.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { expect } from 'chai';

import { expectDocumentedResponse } from '../helpers/openapi-check.js';
import { makeTempDir } from '../helpers/fixture-db.js';
import { freePort } from '../helpers/ports.js';

const run = promisify(execFile);

function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; output so far:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (pattern.test(output)) {
        clearTimeout(timer);
        resolve(output);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the host exited with ${code} before printing ${pattern}:\n${output}`));
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The `curl` commands of the API reference, with `{base}` for the server's base URL. */
const REFERENCE_CURLS = [
  "curl -s {base}/api/health",
  "curl -s {base}/api/openapi.json",
  "curl -s {base}/api/profile -H 'Authorization: Bearer {token}'",
  "curl -s {base}/api/rooms -H 'Authorization: Bearer {token}'",
  "curl -s {base}/api/rooms/room-7ebdde75 -H 'Authorization: Bearer {token}'",
  "curl -s {base}/api/rooms/room-7ebdde75/users -H 'Authorization: Bearer {token}'",
  "curl -s '{base}/api/rooms/room-7ebdde75/messages?limit=50&offset=0' -H 'Authorization: Bearer {token}'",
  "curl -s '{base}/api/rooms/room-7ebdde75/messages/since?sinceTimestamp=1777470000000' -H 'Authorization: Bearer {token}'",
  "curl -s {base}/api/rooms/room-7ebdde75/bans -H 'Authorization: Bearer {token}'",
  "curl -s {base}/api/rooms/room-7ebdde75/bans/user-muse-01 -H 'Authorization: Bearer {token}'",
  "curl -s {base}/api/messages/msg-20260429-001 -H 'Authorization: Bearer {token}'",
  "curl -s {base}/api/messages/msg-20260429-001/reactions -H 'Authorization: Bearer {token}'",
  "curl -s {base}/api/messages/msg-20260429-001/attachments -H 'Authorization: Bearer {token}'",
  "curl -s {base}/api/users/user-muse-01 -H 'Authorization: Bearer {token}'",
  "curl -s {base}/api/attachments -H 'Authorization: Bearer {token}'",
  "curl -s '{base}/api/plugin-data?pluginId=example.soundboard&key=favorites&scope=server&serverId=room-7ebdde75' -H 'Authorization: Bearer {token}'",
  "curl -s {base}/api/meta/metoyou_currentUserId -H 'Authorization: Bearer {token}'",
];

describe('headless host (npm start)', function demoHost() {
  this.timeout(60_000);

  let host: ChildProcess | undefined;

  afterEach(() => {
    if (host && host.exitCode === null) host.kill('SIGKILL');
  });

  it('serves every reference curl and stops cleanly', async () => {
    const port = await freePort();
    const stateDir = await makeTempDir();
    host = spawn(process.execPath, ['dist/main/node/cli.js', '--port', String(port), '--signaling-port', '0', '--state-dir', stateDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LOCAL_API_LOG_LEVEL: 'info' },
    });
    const output = await waitForOutput(host, /Press Ctrl-C to stop/, 30_000);
    const base = `http://127.0.0.1:${port}`;
    expect(output).to.include(base);

    const loginLine = output.split('\n').find((line) => /^\s+curl .*\/api\/auth\/login/.test(line));
    expect(loginLine, 'printed login curl').to.be.a('string');
    const login = await run('bash', ['-c', loginLine ?? '']);
    const { token } = JSON.parse(login.stdout) as { token: string };
    expect(token).to.match(/^local_/);

    for (const template of REFERENCE_CURLS) {
      const command = `${template.replaceAll('{base}', base).replaceAll('{token}', token)} -w '\\n%{http_code} %{content_type}'`;
      const { stdout } = await run('bash', ['-c', command], { maxBuffer: 16 * 1024 * 1024 });
      const lines = stdout.split('\n');
      const [statusText, contentType] = (lines.pop() ?? '').split(' ');
      const status = Number(statusText);
      const text = lines.join('\n');
      expect(status, template).to.be.within(200, 299);
      const path = template.replace(/^curl -s '?\{base\}/, '').split(/['\s]/)[0] ?? '';
      expectDocumentedResponse('GET', path, { status, headers: new Headers({ 'content-type': contentType ?? '' }), body: JSON.parse(text), text });
    }

    const logout = await run('bash', ['-c', `curl -s -o /dev/null -w '%{http_code}' -X POST ${base}/api/auth/logout -H 'Authorization: Bearer ${token}'`]);
    expect(logout.stdout).to.equal('204');

    const discovery = JSON.parse(await readFile(join(stateDir, 'local-api.json'), 'utf8')) as { pid: number; port: number };
    expect(discovery.port).to.equal(port);
    const sidecarPid = discovery.pid;
    expect(isAlive(sidecarPid)).to.equal(true);

    const exited = new Promise<number | null>((resolve) => host?.once('exit', (code) => resolve(code)));
    host.kill('SIGINT');
    expect(await exited).to.equal(0);
    for (let attempt = 0; attempt < 20 && isAlive(sidecarPid); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(isAlive(sidecarPid), 'sidecar stopped').to.equal(false);
    await run('bash', ['-c', `! curl -s -m 2 ${base}/api/health`]);
  });
});
