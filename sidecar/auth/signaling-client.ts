// Client of the signaling server's login check: POST {serverUrl}/api/auth/verify.

import type { Readable } from 'node:stream';


export const VERIFY_PATH = '/api/auth/verify';
export const DEFAULT_SIGNALING_TIMEOUT_MS = 5000;
/** A verify response is a small JSON object; anything larger is treated as a fault. */
export const MAX_SIGNALING_RESPONSE_BYTES = 64 * 1024;

export interface SignalingUser {
  id: string;
  username: string;
  displayName: string;
}

export type VerifyResult =
  | { outcome: 'accepted'; user: SignalingUser }
  | { outcome: 'rejected' }
  | { outcome: 'failed'; reason: string };

export interface SignalingClientOptions {
  timeoutMs?: number;
  maxResponseBytes?: number;
}

/** Closes a body that will not be read, so a huge or endless body is not downloaded. */
function discardBody(body: unknown): void {
  (body as Readable | null)?.destroy();
}

function parseUser(body: unknown): SignalingUser | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const user = (body as { user?: unknown }).user;
  if (typeof user !== 'object' || user === null) return undefined;
  const { id, username, displayName } = user as Record<string, unknown>;
  if (typeof id !== 'string' || id === '' || typeof username !== 'string') return undefined;
  return { id, username, displayName: typeof displayName === 'string' ? displayName : username };
}

/**
 * Asks a signaling server whether the credentials are valid. Redirects are not
 * followed, the whole exchange has a timeout, and the body is read up to a
 * size cap, so a stalled or hostile server ends as `failed`, never a hang.
 */
export async function verifyCredentials(
  serverUrl: string,
  credentials: { username: string; password: string },
  options: SignalingClientOptions = {},
): Promise<VerifyResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_SIGNALING_TIMEOUT_MS;
  try {
    // node-fetch loads on the first login, because most runs of the sidecar never need it.
    const { default: fetch } = await import('node-fetch');
    const response = await fetch(serverUrl + VERIFY_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(credentials),
      redirect: 'manual',
      size: options.maxResponseBytes ?? MAX_SIGNALING_RESPONSE_BYTES,
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (response.status === 401 || response.status === 403) {
      discardBody(response.body);
      return { outcome: 'rejected' };
    }
    if (response.status !== 200) {
      discardBody(response.body);
      return { outcome: 'failed', reason: `unexpected status ${response.status}` };
    }
    const user = parseUser(await response.json());
    return user ? { outcome: 'accepted', user } : { outcome: 'failed', reason: 'response has no valid user' };
  } catch (error) {
    const { name, type } = error as { name?: string; type?: string };
    if (name === 'TimeoutError' || name === 'AbortError') {
      return { outcome: 'failed', reason: `timed out after ${timeoutMs} ms` };
    }
    if (type === 'max-size') return { outcome: 'failed', reason: 'response body too large' };
    if (error instanceof SyntaxError || type === 'invalid-json') return { outcome: 'failed', reason: 'response is not valid JSON' };
    return { outcome: 'failed', reason: (error as Error).message };
  }
}
