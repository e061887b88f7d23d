// Text the headless host prints: host log lines and the ready-to-run curl examples.

import type { HostLog } from '../host/host-log.js';

export interface OutputStreams {
  out: (text: string) => void;
  err: (text: string) => void;
}

export const processStreams: OutputStreams = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/**
 * Ignores EPIPE on stdout and stderr. When the reader of a pipe (such as
 * `npm start | tee log`) exits on Ctrl-C before the host, the host must still
 * stop its processes and remove the discovery file.
 */
export function ignoreBrokenPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    });
  }
}

/** Quotes a value for POSIX shells, so a printed command runs as printed. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

function formatFields(fields: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || value === null) continue;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    parts.push(`${key}=${/\s/.test(text) ? JSON.stringify(text) : text}`);
  }
  return parts.length > 0 ? ` ${parts.join(' ')}` : '';
}

/** Creates a HostLog that prints `[host] message key=value` lines; warnings and errors go to stderr. */
export function createConsoleHostLog(streams: OutputStreams = processStreams): HostLog {
  return {
    info: (fields, message) => streams.out(`[host] ${message}${formatFields(fields)}\n`),
    warn: (fields, message) => streams.err(`[host] warning: ${message}${formatFields(fields)}\n`),
    error: (fields, message) => streams.err(`[host] error: ${message}${formatFields(fields)}\n`),
  };
}

export interface LoginExample {
  baseUrl: string;
  /** Signaling server that validates the login; null when none is allowed. */
  serverUrl: string | null;
  /** Demo credentials; null prints placeholders for the user's own account. */
  credentials: { username: string; password: string } | null;
}

/**
 * Formats a login `curl` and a follow-up request that reuses its token. The
 * token is taken from the login response with `node -p`, so the lines need no
 * jq and run as printed in a POSIX shell.
 */
export function formatLoginExample(example: LoginExample): string {
  const loginUrl = `${example.baseUrl}/api/auth/login`;
  const profileUrl = `${example.baseUrl}/api/profile`;
  if (example.serverUrl === null) {
    return (
      'No signaling server is allowed, so logins fail with NO_ALLOWED_SERVERS.\n' +
      'Restart with --allow-server URL to name the server that validates logins.\n' +
      `Health check: curl -s ${shellQuote(`${example.baseUrl}/api/health`)}\n`
    );
  }

  const credentials = example.credentials ?? { username: 'YOUR_USERNAME', password: 'YOUR_PASSWORD' };
  const body = JSON.stringify({ ...credentials, serverUrl: example.serverUrl });
  const login = `curl -s -X POST ${shellQuote(loginUrl)} -H 'Content-Type: application/json' -d ${shellQuote(body)}`;
  const extractToken = `node -p "JSON.parse(require('fs').readFileSync(0, 'utf8')).token"`;
  const lines = [
    example.credentials ? 'Log in as the demo user (prints a token):' : 'Log in (replace the user name and password):',
    `  ${login}`,
    '',
    'Keep the token in a shell variable, then call the API with it:',
    `  TOKEN=$(${login} | ${extractToken})`,
    `  curl -s ${shellQuote(profileUrl)} -H "Authorization: Bearer $TOKEN"`,
  ];
  return `${lines.join('\n')}\n`;
}
