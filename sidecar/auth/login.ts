// Login: validates the request, throttles failures, checks the credentials with an allowed signaling server, and issues a token.

import type { RateLimiterMemory } from 'rate-limiter-flexible';
import * as yup from 'yup';

import { InvalidServerUrlError, normalizeServerUrl } from '../../shared/settings.js';
import { ApiError } from '../errors.js';
import { logger } from '../log.js';
import { TokenLimitError, type TokenStore } from './tokens.js';
import { verifyCredentials, type SignalingClientOptions, type VerifyResult } from './signaling-client.js';

export interface LoginThrottleOptions {
  /** Failed logins one client address may make per window. */
  perClientFailures: number;
  /** Failed logins all clients together may make per window. */
  globalFailures: number;
  windowSeconds: number;
}

export const DEFAULT_LOGIN_THROTTLE: LoginThrottleOptions = {
  perClientFailures: 10,
  globalFailures: 50,
  windowSeconds: 60,
};

export const loginBodySchema = yup
  .object({
    username: yup.string().strict().required('username is required.').max(256, 'username must be at most 256 characters.'),
    password: yup.string().strict().required('password is required.').max(1024, 'password must be at most 1024 characters.'),
    serverUrl: yup.string().strict().required('serverUrl is required.').max(2048, 'serverUrl must be at most 2048 characters.'),
  })
  .noUnknown(true, 'Unknown field: ${unknown}.')
  .strict();

export type LoginBody = yup.InferType<typeof loginBodySchema>;

export interface LoginDependencies {
  tokens: TokenStore;
  allowedServers: () => readonly string[];
  currentUserId: () => Promise<string | undefined>;
  verify?: (serverUrl: string, credentials: { username: string; password: string }) => Promise<VerifyResult>;
  signaling?: SignalingClientOptions;
  throttle?: LoginThrottleOptions;
}

export interface LoginResponse {
  token: string;
  expiresAt: number;
  user: { id: string; username: string; displayName: string };
}

const GLOBAL_KEY = 'all-clients';

export function parseLoginBody(body: unknown): LoginBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError('INVALID_REQUEST', 'The body must be a JSON object with username, password and serverUrl.');
  }
  try {
    return loginBodySchema.validateSync(body, { abortEarly: false });
  } catch (error) {
    if (error instanceof yup.ValidationError) throw new ApiError('INVALID_REQUEST', error.errors.join(' '));
    throw error;
  }
}

interface Limiters {
  perClient: RateLimiterMemory;
  global: RateLimiterMemory;
}

export class LoginService {
  private readonly options: LoginThrottleOptions;
  private limitersPromise: Promise<Limiters> | undefined;

  constructor(private readonly dependencies: LoginDependencies) {
    this.options = dependencies.throttle ?? DEFAULT_LOGIN_THROTTLE;
  }

  /** Creates the failure counters on the first login, because the limiter package is slow to load and most runs never log in. */
  private limiters(): Promise<Limiters> {
    this.limitersPromise ??= import('rate-limiter-flexible').then(({ RateLimiterMemory: Limiter }) => ({
      perClient: new Limiter({ points: this.options.perClientFailures, duration: this.options.windowSeconds }),
      global: new Limiter({ points: this.options.globalFailures, duration: this.options.windowSeconds }),
    }));
    return this.limitersPromise;
  }

  /** Runs a login for a client address; every failure is an ApiError with a registered code. */
  async login(body: LoginBody, clientAddress: string, requestId: string): Promise<LoginResponse> {
    const allowed = this.dependencies.allowedServers();
    if (allowed.length === 0) {
      throw new ApiError('NO_ALLOWED_SERVERS', 'Add a trusted signaling server URL in Settings > Local API first.');
    }
    const serverUrl = this.allowedServerUrl(body.serverUrl, allowed);
    await this.rejectIfThrottled(clientAddress);

    const verify = this.dependencies.verify ?? ((url, credentials) => verifyCredentials(url, credentials, this.dependencies.signaling));
    const result = await verify(serverUrl, { username: body.username, password: body.password });
    if (result.outcome === 'failed') {
      logger.warn({ requestId, serverUrl, reason: result.reason }, 'signaling server login check failed');
      throw new ApiError('UPSTREAM_UNREACHABLE', `The signaling server at ${serverUrl} did not respond to the login check correctly; try again later.`);
    }
    if (result.outcome === 'rejected') {
      await this.recordFailure(clientAddress);
      logger.info({ requestId, serverUrl }, 'signaling server rejected a login');
      throw new ApiError('INVALID_CREDENTIALS', 'The signaling server rejected the username or password.');
    }

    const currentUserId = await this.dependencies.currentUserId();
    if (result.user.id !== currentUserId) {
      await this.recordFailure(clientAddress);
      logger.warn({ requestId, serverUrl, userId: result.user.id }, 'login rejected: the account is not the local desktop user');
      throw new ApiError(
        'NOT_LOCAL_USER',
        currentUserId === undefined
          ? 'This desktop has no signed-in user, so no account may get a local token.'
          : 'The account is valid but is not the user signed in to this desktop app; only that user may get a local token.',
      );
    }

    return this.issue(result.user, serverUrl, requestId);
  }

  private allowedServerUrl(raw: string, allowed: readonly string[]): string {
    let normalized: string;
    try {
      normalized = normalizeServerUrl(raw);
    } catch (error) {
      if (error instanceof InvalidServerUrlError && URL.canParse(raw.trim())) {
        throw new ApiError('SERVER_NOT_ALLOWED', `${error.message} It cannot be in the allowed list.`);
      }
      throw new ApiError('INVALID_REQUEST', 'serverUrl must be an absolute http(s) URL.');
    }
    if (!allowed.includes(normalized)) {
      throw new ApiError('SERVER_NOT_ALLOWED', `${normalized} is not in the allowed signaling servers; add it in Settings > Local API.`);
    }
    return normalized;
  }

  private issue(user: { id: string; username: string; displayName: string }, serverUrl: string, requestId: string): LoginResponse {
    try {
      const { token, info } = this.dependencies.tokens.issue({
        userId: user.id,
        username: user.username,
        displayName: user.displayName,
        serverUrl,
      });
      logger.info({ requestId, tokenId: info.id, userId: user.id, serverUrl }, 'issued a local token');
      return { token, expiresAt: info.expiresAt, user: { id: user.id, username: user.username, displayName: user.displayName } };
    } catch (error) {
      if (error instanceof TokenLimitError) throw new ApiError('TOO_MANY_TOKENS', `${error.message} Log out unused tokens or revoke them in Settings.`);
      throw error;
    }
  }

  private async rejectIfThrottled(clientAddress: string): Promise<void> {
    const limiters = await this.limiters();
    const [client, all] = await Promise.all([limiters.perClient.get(clientAddress), limiters.global.get(GLOBAL_KEY)]);
    const blocked = [
      client && client.consumedPoints >= this.options.perClientFailures ? client.msBeforeNext : 0,
      all && all.consumedPoints >= this.options.globalFailures ? all.msBeforeNext : 0,
    ];
    const waitMs = Math.max(...blocked);
    if (waitMs > 0) {
      const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
      throw new ApiError('RATE_LIMITED', `Too many failed logins; retry after ${retryAfterSeconds} seconds.`, {
        'Retry-After': String(retryAfterSeconds),
      });
    }
  }

  private async recordFailure(clientAddress: string): Promise<void> {
    // consume() rejects once the points are used up; the next login is then throttled, so that is expected.
    const limiters = await this.limiters();
    await Promise.allSettled([limiters.perClient.consume(clientAddress), limiters.global.consume(GLOBAL_KEY)]);
  }
}
