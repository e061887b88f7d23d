// In-memory store of bearer tokens, keyed by their SHA-256 digest so the raw tokens are never kept.

import { createHash, randomBytes, randomUUID } from 'node:crypto';

import type { TokenInfo } from '../../shared/protocol.js';

export const TOKEN_PREFIX = 'local_';
/** 32 random bytes (256 bits) from the CSPRNG, base64url encoded without padding. */
const TOKEN_RANDOM_BYTES = 32;
export const TOKEN_PATTERN = /^local_[A-Za-z0-9_-]{43}$/;
export const TOKEN_LIFETIME_MS = 60 * 60 * 1000;
export const DEFAULT_MAX_LIVE_TOKENS = 256;

export interface TokenOwner {
  userId: string;
  username: string;
  displayName: string;
  serverUrl: string;
}

export interface IssuedToken {
  token: string;
  info: TokenInfo;
}

interface StoredToken extends TokenOwner {
  id: string;
  issuedAt: number;
  expiresAt: number;
}

export class TokenLimitError extends Error {
  override name = 'TokenLimitError';
}

function digest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function toInfo(stored: StoredToken): TokenInfo {
  return {
    id: stored.id,
    userId: stored.userId,
    username: stored.username,
    serverUrl: stored.serverUrl,
    issuedAt: stored.issuedAt,
    expiresAt: stored.expiresAt,
  };
}

export class TokenStore {
  private readonly tokens = new Map<string, StoredToken>();
  /** Called after a login or logout changes the set of tokens, so the host can refresh its list. */
  onChange: (() => void) | undefined;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxLiveTokens = DEFAULT_MAX_LIVE_TOKENS,
  ) {}

  /** Issues a token for an owner; throws TokenLimitError when the cap of live tokens is reached. */
  issue(owner: TokenOwner): IssuedToken {
    this.removeExpired();
    if (this.tokens.size >= this.maxLiveTokens) {
      throw new TokenLimitError(`At most ${this.maxLiveTokens} tokens may be live at once.`);
    }
    const token = TOKEN_PREFIX + randomBytes(TOKEN_RANDOM_BYTES).toString('base64url');
    const issuedAt = this.now();
    const stored: StoredToken = { ...owner, id: randomUUID(), issuedAt, expiresAt: issuedAt + TOKEN_LIFETIME_MS };
    this.tokens.set(digest(token), stored);
    this.onChange?.();
    return { token, info: toInfo(stored) };
  }

  /** Returns the owner of a live token, or undefined for a malformed, unknown or expired one. */
  verify(token: string): (TokenOwner & { id: string; expiresAt: number }) | undefined {
    if (!TOKEN_PATTERN.test(token)) return undefined;
    const key = digest(token);
    const stored = this.tokens.get(key);
    if (!stored) return undefined;
    if (stored.expiresAt <= this.now()) {
      this.tokens.delete(key);
      return undefined;
    }
    return stored;
  }

  revoke(token: string): boolean {
    const revoked = this.tokens.delete(digest(token));
    if (revoked) this.onChange?.();
    return revoked;
  }

  revokeById(tokenId: string): boolean {
    for (const [key, stored] of this.tokens) {
      if (stored.id === tokenId) return this.tokens.delete(key);
    }
    return false;
  }

  /** Revokes every token issued through a server that is not in `allowedServers`; returns how many. */
  revokeServersNotIn(allowedServers: readonly string[]): number {
    let revoked = 0;
    for (const [key, stored] of this.tokens) {
      if (!allowedServers.includes(stored.serverUrl)) {
        this.tokens.delete(key);
        revoked += 1;
      }
    }
    return revoked;
  }

  revokeAll(): number {
    const count = this.tokens.size;
    this.tokens.clear();
    return count;
  }

  list(): TokenInfo[] {
    this.removeExpired();
    return [...this.tokens.values()].map(toInfo).sort((a, b) => a.issuedAt - b.issuedAt || a.id.localeCompare(b.id));
  }

  get size(): number {
    return this.tokens.size;
  }

  removeExpired(): void {
    const now = this.now();
    for (const [key, stored] of this.tokens) {
      if (stored.expiresAt <= now) this.tokens.delete(key);
    }
  }
}
