// The page's only way to the data: the public API, with the signed-in token as a bearer token.

import { ProxyAccessLogError } from '../../../common/errors.ts';

const TOKEN_KEY = 'proxy-events.token';

export function storedToken(): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

export function storeToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** An API answer other than 2xx, or no answer at all (status 0), with the message to show. */
export class ApiRequestError extends ProxyAccessLogError {
  readonly code = 'WEB_API_REQUEST_FAILED';
  readonly status: number;
  readonly parameter: string | undefined;
  constructor(status: number, message: string, parameter?: string) {
    super(message);
    this.status = status;
    this.parameter = parameter;
  }
}

export interface ProxyEvent {
  id: string;
  service_id?: string;
  timestamp: string;
  method: string;
  host: string;
  path: string;
  duration_ms: number;
  status_code: number;
  bytes_upload: number;
  bytes_download: number;
  source_ip: string;
  reason?: string;
  user_id?: string;
  auth_method_used?: string;
  country_code?: string;
  city_name?: string;
  subdivision_code?: string;
  protocol?: string;
  category: string;
  user_email?: string;
  user_name?: string;
  country_name?: string;
  user_agent?: string;
  proxy_id?: string;
  [field: string]: unknown;
}

export interface EventsPage {
  data: ProxyEvent[];
  page: number;
  page_size: number;
  total_records: number;
  total_pages: number;
  next_cursor?: string | null;
}

/** Reads whatever JSON error body the API sent and turns it into one readable sentence. */
async function errorOf(response: Response): Promise<ApiRequestError> {
  let body: unknown;
  try {
    body = await response.json();
  } catch (error) {
    // A body that is not JSON (a proxy's HTML error page, say) still makes a readable error.
    if (!(error instanceof SyntaxError)) throw error;
  }
  const b = (body ?? {}) as Record<string, unknown>;
  const nested = (typeof b.error === 'object' && b.error !== null ? b.error : b) as Record<string, unknown>;
  const parameter = typeof nested.parameter === 'string' ? nested.parameter : undefined;
  const text = [nested.message, b.message, typeof b.error === 'string' ? b.error : undefined].find(
    (m): m is string => typeof m === 'string' && m.length > 0,
  );
  return new ApiRequestError(response.status, text ?? response.statusText ?? `HTTP ${response.status}`, parameter);
}

export async function apiFetch(path: string, params: URLSearchParams, token: string, signal?: AbortSignal): Promise<Response> {
  const query = params.toString();
  let response: Response;
  try {
    response = await fetch(query ? `${path}?${query}` : path, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      signal,
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiRequestError(0, 'The API cannot be reached. Is the API process running?');
  }
  if (!response.ok) throw await errorOf(response);
  return response;
}

export async function apiJson<T>(path: string, params: URLSearchParams, token: string, signal?: AbortSignal): Promise<T> {
  const response = await apiFetch(path, params, token, signal);
  return (await response.json()) as T;
}

export const EVENTS_PATH = '/api/events/proxy';
export const STATS_PATH = '/api/events/proxy/stats';
export const EXPORT_PATH = '/api/events/proxy/export';
export const INSIGHTS_PATH = '/api/events/proxy/insights';
