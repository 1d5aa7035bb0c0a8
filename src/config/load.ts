import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { ConfigSchema, type Config } from './schema.js';

export class ConfigError extends Error {
  readonly code = 'VERACITY_ERR_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Root of the installed package (the folder holding package.json and config/). */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const defaultConfigPath = resolve(packageRoot, 'config', 'default.yaml');

type Env = Record<string, string | undefined>;

/** Environment variables of CONTRACTS.md, each overriding one config field. */
const ENV_OVERRIDES: Array<[name: string, path: string[], kind: 'string' | 'int' | 'bool']> = [
  ['PORT', ['server', 'port'], 'int'],
  ['HOST', ['server', 'host'], 'string'],
  ['REDIS_URL', ['redis', 'url'], 'string'],
  ['VERACITY_OPENAI_UPSTREAM', ['upstreams', 'openai', 'url'], 'string'],
  ['VERACITY_ANTHROPIC_UPSTREAM', ['upstreams', 'anthropic', 'url'], 'string'],
  ['VERACITY_ADMIN_TOKEN', ['admin', 'token'], 'string'],
  ['VERACITY_METRICS_PORT', ['worker', 'metricsPort'], 'int'],
  ['VERACITY_METRICS_HOST', ['worker', 'metricsHost'], 'string'],
  ['VERACITY_LOG_LEVEL', ['server', 'logLevel'], 'string'],
  ['VERACITY_WORKER_CONCURRENCY', ['worker', 'concurrency'], 'int'],
  ['VERACITY_WORKER_NICE', ['worker', 'nice'], 'int'],
  ['VERACITY_REDIS_DATA_DIR', ['redis', 'dataDir'], 'string'],
  ['VERACITY_REDIS_SENTINELS', ['redis', 'sentinels'], 'string'],
  ['VERACITY_REDIS_SENTINEL_NAME', ['redis', 'sentinelName'], 'string'],
  ['VERACITY_REDIS_SENTINEL_PASSWORD', ['redis', 'sentinelPassword'], 'string'],
  ['VERACITY_REDIS_CLUSTER_NODES', ['redis', 'clusterNodes'], 'string'],
  ['VERACITY_REDIS_USERNAME', ['redis', 'username'], 'string'],
  ['VERACITY_REDIS_PASSWORD', ['redis', 'password'], 'string'],
  ['VERACITY_REDIS_TLS', ['redis', 'tls', 'enabled'], 'bool'],
  ['VERACITY_REDIS_CA_FILE', ['redis', 'tls', 'caFile'], 'string'],
  ['VERACITY_REDIS_CERT_FILE', ['redis', 'tls', 'certFile'], 'string'],
  ['VERACITY_REDIS_KEY_FILE', ['redis', 'tls', 'keyFile'], 'string'],
  ['VERACITY_REDIS_TLS_SERVERNAME', ['redis', 'tls', 'servername'], 'string'],
  ['VERACITY_REDIS_MAXMEMORY', ['redis', 'maxmemory'], 'string'],
];

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function readYaml(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid YAML: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(`config file ${file} must hold a YAML mapping at the top level`);
  }
  return doc as Record<string, unknown>;
}

export interface LoadOptions {
  env?: Env;
  /** Explicit file; otherwise VERACITY_CONFIG, otherwise config/default.yaml. */
  file?: string;
  /** Applied last, for tests and embedding. */
  overrides?: (raw: Record<string, unknown>) => void;
}

export interface LoadedConfig {
  config: Config;
  file: string;
}

export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const file = resolve(options.file ?? env.VERACITY_CONFIG ?? defaultConfigPath);
  const raw = readYaml(file);
  const sources = new Map<string, string>();

  for (const [name, path, kind] of ENV_OVERRIDES) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (kind === 'int') {
      if (!/^\d+$/.test(value)) {
        throw new ConfigError(`environment variable ${name}=${JSON.stringify(value)} must be a whole number (sets ${path.join('.')})`);
      }
      setPath(raw, path, Number(value));
    } else if (kind === 'bool') {
      if (!/^(true|false|1|0|yes|no)$/i.test(value)) {
        throw new ConfigError(`environment variable ${name}=${JSON.stringify(value)} must be true or false (sets ${path.join('.')})`);
      }
      setPath(raw, path, /^(true|1|yes)$/i.test(value));
    } else {
      setPath(raw, path, value);
    }
    sources.set(path.join('.'), name);
  }
  options.overrides?.(raw);

  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const field = issue.path.join('.') || '(top level)';
      // An issue may sit below the field a variable set (redis.sentinels.1 for VERACITY_REDIS_SENTINELS).
      const from = issue.path.map((_, i) => sources.get(issue.path.slice(0, issue.path.length - i).join('.'))).find(Boolean);
      return `  ${field}: ${issue.message}${from ? ` (from environment variable ${from})` : ''}`;
    });
    throw new ConfigError(`invalid config in ${file}:\n${lines.join('\n')}`);
  }
  return { config: parsed.data, file };
}
