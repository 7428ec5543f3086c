// The proxy's configuration: one JSON file, validated with zod at start. Every problem is reported
// with its key path (e.g. `services[1].auth.hash`), and the process refuses to start.

import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { listenHostSchema, portSchema, readConfigFile, readSecretFile, validateConfig } from '../common/config.ts';
import { isAddressOrCidr } from '../common/ip-address.ts';
import { RESERVED_PREFIX } from './auth/endpoints.ts';
import { SecretHashError } from './errors.ts';
import { WHEN_UNWRITABLE } from './line-writer.ts';
import { routingPath } from './routing.ts';
import { parseSecretHash, type SecretHash } from './secret-hash.ts';

const SERVICE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
const SIZE = /^[1-9]\d*[bkmg]$/;
const MIN_BUFFER_BYTES = 65_536;
const MAX_WORKERS = 256;
const DEFAULT_BUFFER_BYTES = 64 * 1024 * 1024;

const secretHash = z.string().transform((text, ctx): SecretHash => {
  try {
    return parseSecretHash(text);
  } catch (error) {
    if (!(error instanceof SecretHashError)) throw error;
    ctx.addIssue({ code: 'custom', message: error.message });
    return z.NEVER;
  }
});

const cidr = z.string().refine(isAddressOrCidr, 'not an IP address or CIDR block (e.g. 10.0.0.0/8, fd00::/8, 127.0.0.1)');

/** A route's path prefix, kept without its trailing slash (`/app/` and `/app` are one prefix). */
const pathPrefix = z
  .string()
  .regex(/^\/[\x21-\x7e]*$/, 'must start with / and hold no spaces or control characters')
  .refine((prefix) => !prefix.includes('?') && !prefix.includes('#'), 'a path prefix has no ? or #')
  .refine((prefix) => routingPath(prefix) === prefix, 'must be a normalised path: no . or .. segments, no //, no %-escapes of letters, digits, - . _ ~')
  .refine((prefix) => !`${prefix}/`.startsWith(RESERVED_PREFIX), `${RESERVED_PREFIX} is the proxy's own`)
  .transform((prefix) => (prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix));

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

const upstreamTimeouts = z.strictObject({
  connect_ms: z.number().int().positive().default(5_000),
  headers_ms: z.number().int().positive().default(30_000),
  body_ms: z.number().int().positive().default(60_000),
});

const emailAddress = z.email({ error: 'not an e-mail address' }).transform((address) => address.toLowerCase());
const domainName = z.string().transform((domain) => domain.toLowerCase()).pipe(z.string().regex(HOST_NAME, 'not a domain name'));

const basicUser = z.strictObject({
  /** Logged as user_id; a colon would end it early in the Basic credentials. */
  username: z.string().min(1).max(200).regex(/^[^:\x00-\x1f]+$/, 'no colon or control characters'),
  hash: secretHash,
});

const authMethodSchema = z.discriminatedUnion('method', [
  z.strictObject({ method: z.literal('none') }),
  z.strictObject({
    method: z.literal('password'),
    hash: secretHash,
    /** Logged as user_id after a successful login (a password stands for one user or team). */
    user_id: z.string().min(1).max(200).optional(),
  }),
  z.strictObject({
    method: z.literal('pin'),
    hash: secretHash,
    user_id: z.string().min(1).max(200).optional(),
  }),
  z
    .strictObject({
      method: z.literal('sso'),
      issuer: httpUrl,
      client_id: z.string().min(1),
      /** The secret itself, or client_secret_file: a file holding it, so the configuration can be committed without it. */
      client_secret: z.string().min(1).optional(),
      client_secret_file: z.string().min(1).optional(),
      scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/)).default(['openid', 'email', 'profile']),
      /** `sub` or e-mail values allowed in; with allowed_groups, either list admits. Both empty: any user of the issuer. */
      allowed_users: z.array(z.string().min(1)).default([]),
      /** Matched against the ID token's `groups` claim. */
      allowed_groups: z.array(z.string().min(1)).default([]),
    })
    .refine((auth) => (auth.client_secret === undefined) !== (auth.client_secret_file === undefined), {
      message: 'exactly one of client_secret and client_secret_file is required',
      path: ['client_secret'],
    }),
  z.strictObject({
    method: z.literal('basic'),
    users: z
      .array(basicUser)
      .min(1)
      .refine((users) => new Set(users.map((user) => user.username)).size === users.length, 'duplicate username'),
    /** Pass the client's Authorization header on to the upstream (it is removed otherwise). */
    forward_authorization: z.boolean().default(false),
  }),
  z
    .strictObject({
      method: z.literal('link'),
      /** Addresses that may ask for a link, and domains whose every address may. */
      allowed_emails: z.array(emailAddress).default([]),
      allowed_domains: z.array(domainName).default([]),
      link_ttl_seconds: z.number().int().min(60).max(86_400).default(600),
    })
    .refine((auth) => auth.allowed_emails.length + auth.allowed_domains.length > 0, {
      message: 'list allowed_emails or allowed_domains (or both)',
      path: ['allowed_emails'],
    }),
]);

const authMethodList = z
  .array(authMethodSchema)
  .min(1)
  .superRefine((methods, ctx) => {
    const seen = new Set<string>();
    methods.forEach((auth, index) => {
      if (seen.has(auth.method)) ctx.addIssue({ code: 'custom', path: [index, 'method'], message: `method "${auth.method}" listed twice` });
      seen.add(auth.method);
      if (auth.method === 'none' && methods.length > 1) ctx.addIssue({ code: 'custom', path: [index, 'method'], message: '"none" cannot be combined with other methods' });
    });
  });

/** One method as an object, or several as a list; always a list once parsed. Issues keep the path as written. */
const authSchema = z.unknown().transform((value, ctx): Array<z.output<typeof authMethodSchema>> => {
  const parsed = Array.isArray(value) ? authMethodList.safeParse(value) : authMethodSchema.safeParse(value);
  if (parsed.success) return Array.isArray(parsed.data) ? parsed.data : [parsed.data];
  for (const issue of parsed.error.issues) ctx.addIssue({ ...issue });
  return z.NEVER;
});

const smtpSchema = z
  .strictObject({
    host: z.string().min(1),
    port: portSchema,
    /** none: plain SMTP (a local relay); starttls: upgrade required; implicit: TLS from the first byte (port 465). */
    tls: z.enum(['none', 'starttls', 'implicit']).default('starttls'),
    username: z.string().min(1).optional(),
    /** File holding the SMTP password, so the configuration can be committed without it. */
    password_file: z.string().min(1).optional(),
    from: z.email({ error: 'not an e-mail address' }),
  })
  .refine((smtp) => (smtp.username === undefined) === (smtp.password_file === undefined), {
    message: 'username and password_file go together',
    path: ['password_file'],
  })
  // Filled from password_file once the configuration is valid.
  .transform((smtp) => ({ ...smtp, password: undefined as string | undefined }));

const serviceSchema = z.strictObject({
  id: z.string().regex(SERVICE_ID, 'letters, digits, _ . - (up to 63), starting with a letter or digit'),
  hosts: z.array(z.string().transform((host) => host.toLowerCase()).pipe(z.string().regex(HOST_NAME, 'not a host name'))).min(1),
  upstream: httpUrl.refine((text) => {
    const url = new URL(text);
    return (url.pathname === '/' || url.pathname === '') && url.search === '' && url.username === '';
  }, 'must be an origin only (scheme, host, port), without path, query or credentials'),
  /** Path prefixes this service answers on its hosts; the longest matching prefix of a host wins. */
  paths: z.array(pathPrefix).min(1).default(['/']),
  /** Cut the matched prefix from the path sent upstream (`/app/x` → `/x`). */
  strip_prefix: z.boolean().default(false),
  auth: authSchema,
  upstream_timeouts: upstreamTimeouts.default({ connect_ms: 5_000, headers_ms: 30_000, body_ms: 60_000 }),
  /** Most connections kept open to the upstream. */
  upstream_connections: z.number().int().positive().max(10_000).default(128),
});

export const proxyConfigSchema = z
  .strictObject({
    /** Written into every record as `proxy`. */
    proxy_id: z.string().regex(SERVICE_ID, 'letters, digits, _ . - (up to 63)'),
    listen: z.strictObject({
      host: listenHostSchema.default('127.0.0.1'),
      port: portSchema,
    }),
    /** Worker processes sharing the listen port (proxy/workers.ts); 1: one process, no workers. */
    workers: z
      .number()
      .int()
      .min(1)
      .max(MAX_WORKERS)
      .default(() => availableParallelism()),
    /** Optional TLS: PEM files; without it the proxy speaks plain HTTP (e.g. behind a TLS terminator). */
    tls: z.strictObject({ cert_file: z.string().min(1), key_file: z.string().min(1) }).optional(),
    trusted_proxies: z.array(cidr).default([]),
    access_log: z.strictObject({
      /** Off only for benchmarks and diagnosis: nothing is recorded. */
      enabled: z.boolean().default(true),
      dir: z.string().min(1),
      rotation: z
        .strictObject({
          size: z.string().regex(SIZE, 'a size like 512k, 100m or 1g').default('100m'),
          frequency: z.union([z.enum(['daily', 'hourly']), z.number().int().min(1_000)]).default('daily'),
        })
        .default({ size: '100m', frequency: 'daily' }),
      /** Rotated files kept besides the current one; older ones are deleted. */
      keep: z.number().int().positive().max(100_000).default(30),
      /** What happens to requests while lines cannot be written (full disk, read-only mount). */
      when_unwritable: z.enum(WHEN_UNWRITABLE).default('serve'),
      /** Most bytes of lines held in memory while they cannot be written. */
      buffer_max_bytes: z.number().int().min(MIN_BUFFER_BYTES, `at least ${MIN_BUFFER_BYTES} (64 KiB)`).default(DEFAULT_BUFFER_BYTES),
      /** Ed25519 private key (PEM, `npm run trail-key`) that signs the trail's checkpoints; without it the lines are chained but nothing is signed. */
      signing_key_file: z.string().min(1).optional(),
    }),
    /** Optional status listener: GET /health and GET /metrics (Prometheus), apart from the proxied traffic. */
    status: z.strictObject({ host: listenHostSchema.default('127.0.0.1'), port: portSchema }).optional(),
    limits: z
      .strictObject({
        max_header_bytes: z.number().int().min(1_024).max(1_048_576).default(16_384),
        headers_timeout_ms: z.number().int().positive().default(10_000),
        request_timeout_ms: z.number().int().positive().default(300_000),
        idle_timeout_ms: z.number().int().positive().default(60_000),
        keep_alive_timeout_ms: z.number().int().positive().default(5_000),
        shutdown_timeout_ms: z.number().int().positive().default(10_000),
      })
      .default({
        max_header_bytes: 16_384,
        headers_timeout_ms: 10_000,
        request_timeout_ms: 300_000,
        idle_timeout_ms: 60_000,
        keep_alive_timeout_ms: 5_000,
        shutdown_timeout_ms: 10_000,
      }),
    sessions: z
      .strictObject({
        ttl_seconds: z.number().int().positive().default(43_200),
        /** File holding the cookie-signing key (32+ bytes); without it a random key per start (sessions end on restart). */
        secret_file: z.string().min(1).optional(),
      })
      .default({ ttl_seconds: 43_200 }),
    /** Failed password/PIN logins: per source IP and service, and per service from all addresses (sized in the README). */
    login_rate_limit: z
      .strictObject({
        max_failed_attempts: z.number().int().positive().default(10),
        window_seconds: z.number().int().positive().default(60),
        service_max_failed_attempts: z.number().int().positive().default(100),
        service_window_seconds: z.number().int().positive().default(3_600),
        service_lockout_seconds: z.number().int().positive().default(3_600),
      })
      .prefault({}),
    /** The mail server that sends magic links; required when a service uses the link method. */
    smtp: smtpSchema.optional(),
    services: z.array(serviceSchema).min(1),
    /** Reload when the configuration file changes, as on SIGHUP. */
    watch_config: z.boolean().default(false),
  })
  .superRefine((config, ctx) => {
    if (config.limits.headers_timeout_ms > config.limits.request_timeout_ms) {
      ctx.addIssue({ code: 'custom', path: ['limits', 'headers_timeout_ms'], message: 'must not exceed limits.request_timeout_ms' });
    }
    const linkService = config.services.findIndex((service) => service.auth.some((auth) => auth.method === 'link'));
    if (linkService !== -1 && config.smtp === undefined) {
      ctx.addIssue({ code: 'custom', path: ['smtp'], message: `required: services[${linkService}] uses the link method` });
    }
    const ids = new Set<string>();
    const routes = new Map<string, string>();
    const logins = new Map<string, string>();
    config.services.forEach((service, index) => {
      if (ids.has(service.id)) ctx.addIssue({ code: 'custom', path: ['services', index, 'id'], message: `duplicate service id "${service.id}"` });
      ids.add(service.id);
      service.hosts.forEach((host, hostIndex) => {
        service.paths.forEach((prefix, pathIndex) => {
          const owner = routes.get(`${host} ${prefix}`);
          if (owner === undefined) return routes.set(`${host} ${prefix}`, service.id);
          // Without paths, the clash is in the host itself.
          const path = service.paths.length === 1 && prefix === '/' ? ['services', index, 'hosts', hostIndex] : ['services', index, 'paths', pathIndex];
          ctx.addIssue({ code: 'custom', path, message: prefix === '/' ? `host "${host}" is already served by "${owner}"` : `host "${host}" path "${prefix}" is already served by "${owner}"` });
        });
        // The /.proxy/ endpoints and the session cookie belong to the host: one service on it may sign people in.
        if (service.auth.every((auth) => auth.method === 'none')) return;
        const login = logins.get(host);
        if (login !== undefined) ctx.addIssue({ code: 'custom', path: ['services', index, 'auth'], message: `host "${host}" already signs in through "${login}": only one service per host may authenticate` });
        else logins.set(host, service.id);
      });
    });
  });

export type ProxyConfig = z.infer<typeof proxyConfigSchema>;
export type ServiceConfig = ProxyConfig['services'][number];
export type AuthConfig = ServiceConfig['auth'][number];
export type SmtpConfig = NonNullable<ProxyConfig['smtp']>;

/** The service's auth method `method`, when it allows it. */
export function authMethodConfig<M extends AuthConfig['method']>(service: ServiceConfig, method: M): Extract<AuthConfig, { method: M }> | undefined {
  return service.auth.find((auth): auth is Extract<AuthConfig, { method: M }> => auth.method === method);
}

/** Validates parsed JSON from `source`; relative paths in it are resolved against `baseDir`. */
export function parseConfig(json: unknown, baseDir: string, source = 'proxy'): ProxyConfig {
  const config = validateConfig(proxyConfigSchema, json, source);
  config.access_log.dir = resolve(baseDir, config.access_log.dir);
  if (config.access_log.signing_key_file) config.access_log.signing_key_file = resolve(baseDir, config.access_log.signing_key_file);
  if (config.sessions.secret_file) config.sessions.secret_file = resolve(baseDir, config.sessions.secret_file);
  if (config.tls) config.tls = { cert_file: resolve(baseDir, config.tls.cert_file), key_file: resolve(baseDir, config.tls.key_file) };
  const authPath = (json as { services?: Array<{ auth?: unknown }> }).services;
  config.services.forEach((service, index) => {
    service.auth.forEach((auth, position) => {
      if (auth.method !== 'sso' || auth.client_secret_file === undefined) return;
      // The key path as written: `auth.client_secret_file` for the single-object form, `auth[1].…` for a list.
      const at = Array.isArray(authPath?.[index]?.auth) ? ['auth', position] : ['auth'];
      auth.client_secret_file = resolve(baseDir, auth.client_secret_file);
      auth.client_secret = readSecretFile(auth.client_secret_file, ['services', index, ...at, 'client_secret_file'], source);
    });
  });
  if (config.smtp?.password_file !== undefined) {
    config.smtp.password_file = resolve(baseDir, config.smtp.password_file);
    config.smtp.password = readSecretFile(config.smtp.password_file, ['smtp', 'password_file'], source);
  }
  return config;
}

export function loadConfig(file: string): ProxyConfig {
  const { json, dir } = readConfigFile(file);
  return parseConfig(json, dir, file);
}
