import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

/**
 * Console sign-in. The admin token is asked for once; the browser then holds a session cookie,
 * HttpOnly (no page script can read it), SameSite=Strict (no other site can make the browser
 * send it) and scoped to /veracity. Its value is an expiry and an HMAC of it keyed by the admin
 * token, never the token itself: any proxy with the same token accepts it, no state is shared,
 * and changing the token ends every session.
 *
 * The sign-in and sign-out forms carry a CSRF token too: sign-in a random value also set as a
 * cookie (double submit), sign-out an HMAC bound to the session; and a cross-site Origin or
 * Sec-Fetch-Site is refused outright.
 */

export const SESSION_COOKIE = 'veracity_session';
export const CSRF_COOKIE = 'veracity_csrf';
export const COOKIE_PATH = '/veracity';
export const SESSION_SECONDS = 12 * 3600;

const b64url = (buf: Buffer) => buf.toString('base64url');
const hmac = (key: string, data: string) => b64url(createHmac('sha256', key).update(data).digest());

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The value of one cookie of the request, or undefined. */
export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Secure cookies when the browser reached us over TLS, directly or through a terminating proxy. */
function secure(request: FastifyRequest): boolean {
  return request.protocol === 'https' || request.headers['x-forwarded-proto'] === 'https';
}

export function cookieHeader(request: FastifyRequest, name: string, value: string, maxAgeSeconds: number): string {
  return `${name}=${value}; Path=${COOKIE_PATH}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure(request) ? '; Secure' : ''}`;
}

export class ConsoleSessions {
  constructor(
    private readonly token: string,
    private readonly lifetimeSeconds = SESSION_SECONDS,
  ) {}

  /** True when `given` is the admin token (compared in constant time). */
  tokenMatches(given: string): boolean {
    return equal(given, this.token);
  }

  issue(nowMs = Date.now()): string {
    const expires = Math.floor(nowMs / 1000) + this.lifetimeSeconds;
    return `${expires}.${hmac(this.token, `veracity-console-session:${expires}`)}`;
  }

  valid(value: string | undefined, nowMs = Date.now()): boolean {
    if (!value) return false;
    const dot = value.indexOf('.');
    const expires = Number(value.slice(0, dot));
    if (dot < 1 || !Number.isInteger(expires) || expires * 1000 <= nowMs) return false;
    return equal(value.slice(dot + 1), hmac(this.token, `veracity-console-session:${expires}`));
  }

  fromRequest(request: FastifyRequest): string | undefined {
    const value = readCookie(request, SESSION_COOKIE);
    return this.valid(value) ? value : undefined;
  }

  /** The sign-out form's CSRF token: bound to the session it ends. */
  signOutToken(session: string): string {
    return hmac(this.token, `veracity-console-signout:${session}`);
  }

  signOutTokenMatches(session: string, given: string): boolean {
    return equal(given, this.signOutToken(session));
  }
}

export const newCsrfValue = () => b64url(randomBytes(24));

/** A form post from another site: its Origin names another host, or the browser says so. */
export function crossSite(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return true;
  const origin = request.headers.origin;
  // Under `Referrer-Policy: no-referrer` browsers send `Origin: null` even from the same page;
  // that says nothing, and the CSRF token decides.
  if (typeof origin !== 'string' || origin === '' || origin === 'null') return false;
  try {
    return new URL(origin).host !== request.headers.host;
  } catch {
    return true;
  }
}

/** A form field of an application/x-www-form-urlencoded body. */
export function formFields(body: unknown): URLSearchParams {
  if (Buffer.isBuffer(body)) return new URLSearchParams(body.toString('utf8'));
  return new URLSearchParams(typeof body === 'string' ? body : '');
}

/** Where to go after signing in: a console path only, never another site. */
export function safeNext(next: string | null | undefined): string {
  if (typeof next === 'string' && /^\/veracity\/[^\\]*$/.test(next) && !next.startsWith('//') && !/[\r\n]/.test(next)) return next;
  return '/veracity/';
}
