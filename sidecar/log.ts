// Structured JSON logger of the sidecar; the host reads these lines from the process's stdout.

import { pino } from 'pino';

/**
 * Paths redacted in every log line, because a token or password must never
 * reach a log even when an object carrying one is logged by mistake.
 */
const REDACTED_PATHS = [
  'token',
  'password',
  'authorization',
  '*.token',
  '*.password',
  '*.authorization',
  'req.headers.authorization',
  'headers.authorization',
];

export const logger = pino({
  name: 'metoyou-local-api',
  level: process.env.LOCAL_API_LOG_LEVEL ?? 'info',
  base: { pid: process.pid },
  redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
});
