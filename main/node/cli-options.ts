// Command-line options of the headless host (`npm start`), parsed with node:util parseArgs.

import { parseArgs } from 'node:util';

import { DEFAULT_PORT, MAX_PORT, MIN_PORT, normalizeOrigin, normalizeServerUrl } from '../../shared/settings.js';

export const DEFAULT_STATE_DIR = 'var';
export const DEFAULT_SIGNALING_PORT = 17879;

export interface CliOptions {
  help: boolean;
  /** Database to serve; null means the demo database in the state folder. */
  databasePath: string | null;
  port: number;
  exposeOnLan: boolean;
  /** Normalized signaling server URLs from --allow-server. */
  allowedServers: string[];
  /** Normalized browser origins from --allow-origin. */
  allowedOrigins: string[];
  scalarDocs: boolean;
  docusaurusDocs: boolean;
  stateDir: string;
  /** Port of the development signaling server; 0 picks a free port. */
  signalingPort: number;
}

/** A bad command line; the CLI prints the message and exits with status 2. */
export class CliUsageError extends Error {
  override name = 'CliUsageError';
}

export const HELP_TEXT = `Usage: npm start -- [options]

Runs the MetoYou local API without the desktop app: starts the sidecar, waits
until it listens, then prints the base URL and example requests. Options set
the settings for this run only; nothing is saved.

Without --db it builds the demo database (or reuses it) at <state-dir>/demo.sqlite
and starts a development signaling server that accepts the demo user's login.

Options:
  --db PATH              Desktop database to serve, a SQLite file opened read-only.
                         Default: the demo database.
  --port N               TCP port of the API, from ${MIN_PORT} to ${MAX_PORT}. Default: ${DEFAULT_PORT}.
  --lan                  Listen on all network interfaces (0.0.0.0 and ::), not
                         only on loopback. Default: off.
  --allow-server URL     Signaling server that may validate logins (https, or
                         http for localhost only). Repeat for more servers.
                         Without --db the development server is added.
  --allow-origin ORIGIN  Browser origin allowed to call the API with CORS, such
                         as http://localhost:3000. Repeat for more. Default: none.
  --scalar-docs          Serve the Scalar API reference at /docs. Default: off.
  --docusaurus-docs      Serve the Docusaurus site at /docusaurus. Default: off.
  --state-dir DIR        Folder of the discovery file (local-api.json) and the
                         demo database. Default: ${DEFAULT_STATE_DIR}/ in the working folder.
  --signaling-port N     TCP port of the development signaling server, from 0 to
                         ${MAX_PORT}; 0 picks a free port. Only without --db.
                         Default: ${DEFAULT_SIGNALING_PORT}.
  -h, --help             Print this help and exit.

Ctrl-C or SIGTERM stops the sidecar and the signaling server, then exits with
status 0. Bad options exit with status 2, a failed start with status 1.
`;

function parsePort(option: string, text: string, min: number): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(port) || port < min || port > MAX_PORT) {
    throw new CliUsageError(`--${option} must be a whole number from ${min} to ${MAX_PORT}; got "${text}".`);
  }
  return port;
}

function normalizeAll(option: string, values: string[], normalize: (value: string) => string): string[] {
  const normalized: string[] = [];
  for (const value of values) {
    let entry: string;
    try {
      entry = normalize(value);
    } catch (error) {
      throw new CliUsageError(`--${option}: ${(error as Error).message}`);
    }
    if (!normalized.includes(entry)) normalized.push(entry);
  }
  return normalized;
}

/** Parses the arguments after the script name. Throws CliUsageError with a message for the user. */
export function parseCliOptions(args: string[]): CliOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        db: { type: 'string' },
        port: { type: 'string' },
        lan: { type: 'boolean' },
        'allow-server': { type: 'string', multiple: true },
        'allow-origin': { type: 'string', multiple: true },
        'scalar-docs': { type: 'boolean' },
        'docusaurus-docs': { type: 'boolean' },
        'state-dir': { type: 'string' },
        'signaling-port': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    // parseArgs messages name the option, such as "Unknown option '--prot'".
    throw new CliUsageError((error as Error).message);
  }

  if (values.db !== undefined && values.db.trim() === '') throw new CliUsageError('--db must name a file.');
  if (values['state-dir'] !== undefined && values['state-dir'].trim() === '') {
    throw new CliUsageError('--state-dir must name a folder.');
  }
  if (values.db !== undefined && values['signaling-port'] !== undefined) {
    throw new CliUsageError('--signaling-port applies only to the demo setup; leave it out when you pass --db.');
  }

  return {
    help: values.help ?? false,
    databasePath: values.db ?? null,
    port: values.port === undefined ? DEFAULT_PORT : parsePort('port', values.port, MIN_PORT),
    exposeOnLan: values.lan ?? false,
    allowedServers: normalizeAll('allow-server', values['allow-server'] ?? [], normalizeServerUrl),
    allowedOrigins: normalizeAll('allow-origin', values['allow-origin'] ?? [], normalizeOrigin),
    scalarDocs: values['scalar-docs'] ?? false,
    docusaurusDocs: values['docusaurus-docs'] ?? false,
    stateDir: values['state-dir'] ?? DEFAULT_STATE_DIR,
    signalingPort:
      values['signaling-port'] === undefined
        ? DEFAULT_SIGNALING_PORT
        : parsePort('signaling-port', values['signaling-port'], 0),
  };
}
