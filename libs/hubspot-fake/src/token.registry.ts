/**
 * Every credential the fake knows: static private-app tokens, OAuth access and refresh tokens,
 * and authorization codes. Access tokens from OAuth expire; refresh tokens live until revoked
 * (HubSpot's v1 refresh answers with the same refresh token, so nothing rotates).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '@codestep/core';

export interface AccessTokenRecord {
  readonly token: string;
  readonly kind: 'private-app' | 'oauth';
  readonly portalId: number;
  /** Granted scopes; `undefined` grants everything (a token configured without scopes). */
  readonly scopes: readonly string[] | undefined;
  /** Epoch ms; `undefined` never expires (private-app tokens). */
  expiresAt: number | undefined;
  readonly clientId: string | undefined;
  readonly appId: number;
  readonly userEmail: string;
  readonly userId: number;
}

export interface RefreshTokenRecord {
  readonly token: string;
  readonly clientId: string;
  readonly appId: number;
  readonly portalId: number;
  readonly scopes: readonly string[];
  readonly userEmail: string;
  readonly userId: number;
}

export interface AuthCodeRecord {
  readonly code: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly portalId: number;
  readonly scopes: readonly string[];
  readonly userEmail: string;
  readonly userId: number;
}

export type Authentication = { ok: true; record: AccessTokenRecord } | { ok: false; reason: 'missing' | 'unknown' } | { ok: false; reason: 'expired'; expiredAt: number };

export interface IssueAccessTokenInput {
  portalId: number;
  scopes?: readonly string[] | undefined;
  ttlSeconds: number;
  clientId?: string | undefined;
  appId: number;
  userEmail: string;
  userId: number;
}

/** HubSpot OAuth access tokens are opaque base64url strings of a few hundred characters. */
function newAccessToken(): string {
  return `C${randomBytes(96).toString('base64url')}`;
}

export class TokenRegistry {
  readonly #clock: Clock;
  readonly #access = new Map<string, AccessTokenRecord>();
  readonly #refresh = new Map<string, RefreshTokenRecord>();
  readonly #codes = new Map<string, AuthCodeRecord>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  addPrivateAppToken(token: string, input: { portalId: number; scopes?: readonly string[] | undefined; userEmail: string; userId: number; appId: number }): AccessTokenRecord {
    const record: AccessTokenRecord = {
      token,
      kind: 'private-app',
      portalId: input.portalId,
      scopes: input.scopes,
      expiresAt: undefined,
      clientId: undefined,
      appId: input.appId,
      userEmail: input.userEmail,
      userId: input.userId,
    };
    this.#access.set(token, record);
    return record;
  }

  issueAccessToken(input: IssueAccessTokenInput): AccessTokenRecord {
    const record: AccessTokenRecord = {
      token: newAccessToken(),
      kind: 'oauth',
      portalId: input.portalId,
      scopes: input.scopes,
      expiresAt: this.#clock() + input.ttlSeconds * 1000,
      clientId: input.clientId,
      appId: input.appId,
      userEmail: input.userEmail,
      userId: input.userId,
    };
    this.#access.set(record.token, record);
    return record;
  }

  /** Makes an access token expire now (or at `at`), for tests of the refresh path. */
  expire(token: string, at = this.#clock()): boolean {
    const record = this.#access.get(token);
    if (!record) return false;
    record.expiresAt = at;
    return true;
  }

  /** Reads `Authorization: Bearer <token>`. */
  authenticate(authorization: string | undefined): Authentication {
    const match = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
    if (!match?.[1]) return { ok: false, reason: 'missing' };
    const record = this.#access.get(match[1]);
    if (!record) return { ok: false, reason: 'unknown' };
    if (record.expiresAt !== undefined && record.expiresAt <= this.#clock()) {
      return { ok: false, reason: 'expired', expiredAt: record.expiresAt };
    }
    return { ok: true, record };
  }

  accessToken(token: string): AccessTokenRecord | undefined {
    return this.#access.get(token);
  }

  createCode(input: Omit<AuthCodeRecord, 'code'>): AuthCodeRecord {
    const record: AuthCodeRecord = { ...input, code: randomUUID() };
    this.#codes.set(record.code, record);
    return record;
  }

  /** Codes are single-use: the first redemption removes it, whatever comes of it. */
  redeemCode(code: string): AuthCodeRecord | undefined {
    const record = this.#codes.get(code);
    this.#codes.delete(code);
    return record;
  }

  issueRefreshToken(input: Omit<RefreshTokenRecord, 'token'>): RefreshTokenRecord {
    const record: RefreshTokenRecord = { ...input, token: `na1-${randomUUID()}` };
    this.#refresh.set(record.token, record);
    return record;
  }

  refreshToken(token: string): RefreshTokenRecord | undefined {
    return this.#refresh.get(token);
  }

  /** Revoking a refresh token leaves the access tokens it minted working, as HubSpot documents. */
  revokeRefreshToken(token: string): boolean {
    return this.#refresh.delete(token);
  }
}
