import type { Provider } from './exchange.js';

export type CaptureErrorCode =
  | 'VERACITY_CAPTURE_BAD_JSON' // a body that should be JSON is not (or was cut)
  | 'VERACITY_CAPTURE_BAD_SHAPE' // JSON, but not the shape the dialect sends
  | 'VERACITY_CAPTURE_BAD_ENCODING' // unknown or undecodable content-encoding
  | 'VERACITY_CAPTURE_BAD_ROUTE'; // a route family the dialect does not speak

/** The only error the capture modules throw: callers can tell bad input from a bug. */
export class CaptureError extends Error {
  override readonly name = 'CaptureError';
  readonly code: CaptureErrorCode;

  constructor(code: CaptureErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export interface ErrorBody {
  contentType: string;
  body: string;
}

/**
 * The proxy's own error answers, in the error format the client's SDK already parses,
 * so a 502/504/413 from Veracity surfaces as a normal API error rather than a JSON crash.
 */
export function errorBody(dialect: Provider, status: number, message: string): ErrorBody {
  const contentType = 'application/json';
  if (dialect === 'anthropic') {
    return {
      contentType,
      body: JSON.stringify({ type: 'error', error: { type: anthropicErrorType(status), message } }),
    };
  }
  const { type, code } = openaiErrorType(status);
  return { contentType, body: JSON.stringify({ error: { message, type, param: null, code } }) };
}

// Names from https://docs.anthropic.com/en/api/errors
function anthropicErrorType(status: number): string {
  switch (status) {
    case 400:
      return 'invalid_request_error';
    case 401:
      return 'authentication_error';
    case 402:
      return 'billing_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 408:
    case 504:
      return 'timeout_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 529:
    case 503:
      return 'overloaded_error';
    default:
      return status >= 400 && status < 500 ? 'invalid_request_error' : 'api_error';
  }
}

function openaiErrorType(status: number): { type: string; code: string | null } {
  switch (status) {
    case 400:
      return { type: 'invalid_request_error', code: null };
    case 401:
      return { type: 'invalid_request_error', code: 'invalid_api_key' };
    case 403:
      return { type: 'invalid_request_error', code: 'unsupported_country_region_territory' };
    case 404:
      return { type: 'invalid_request_error', code: 'not_found' };
    case 408:
    case 504:
      return { type: 'timeout', code: 'timeout' };
    case 413:
      return { type: 'invalid_request_error', code: 'request_too_large' };
    case 429:
      return { type: 'requests', code: 'rate_limit_exceeded' };
    case 502:
      return { type: 'server_error', code: 'bad_gateway' };
    case 503:
      return { type: 'server_error', code: 'service_unavailable' };
    default:
      return status >= 400 && status < 500
        ? { type: 'invalid_request_error', code: null }
        : { type: 'server_error', code: null };
  }
}
