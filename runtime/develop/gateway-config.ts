import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { gatewayDefaults, streamDefaults, upDefaults } from '../gateway/defaults.js';
import { ConfigError, integer, list, oneOf, specOf, word, type KeySpec } from './config-keys.js';

/** The gateway config file `asf up --config` and `asf compose --config` read, and `asf config --gateway` writes. */
export const defaultGatewayConfigFile = 'asf-gateway.yaml';

export interface GatewayConfig {
  port?: number;
  host?: string;
  replicas?: number;
  bodyLimit?: number;
  timeoutMs?: number;
  queueDepth?: number;
  sessionTimeoutMs?: number;
  readTimeoutMs?: number;
  /** Auth keys: only these app ids are let in. */
  appIds?: string[];
  logLevel?: string;
  /** Capability folders, relative to the file. */
  capabilities?: string[];
  /** Per-app quotas file, relative to this file. */
  quotas?: string;
  /** Signing keys file, relative to this file. */
  signing?: string;
}

export const gatewayKeys: Record<keyof GatewayConfig, KeySpec> = {
  port: { describe: 'gateway HTTP port', parse: integer(0, 65535) },
  host: { describe: 'gateway listen address', parse: word() },
  replicas: { describe: 'loader processes per capability (asf up)', parse: integer(1) },
  bodyLimit: { describe: 'largest request body, bytes', parse: integer(1) },
  timeoutMs: { describe: 'one-shot request timeout at the gateway, ms', parse: integer(1) },
  queueDepth: { describe: 'requests that may wait for a licence, per service, when every licence is taken', parse: integer(0) },
  sessionTimeoutMs: { describe: 'longest WebSocket session, ms', parse: integer(1) },
  readTimeoutMs: { describe: "longest wait for a WebSocket client's next frame, ms", parse: integer(1) },
  appIds: { describe: 'auth keys: the app ids let in, comma-separated (empty: everyone)', parse: list },
  logLevel: { describe: 'log level', parse: oneOf(['debug', 'info', 'warn', 'error']) },
  capabilities: { describe: 'capability folders, comma-separated, relative to this file', parse: list },
  quotas: { describe: 'per-app quotas file (YAML), relative to this file', parse: word() },
  signing: { describe: 'signing keys file (YAML), relative to this file', parse: word() },
};

/** What `asf up --config FILE` uses for a key the file leaves out: its own defaults. */
export const gatewayConfigDefaults: Partial<Record<keyof GatewayConfig, unknown>> = {
  ...upDefaults,
  ...gatewayDefaults,
  ...streamDefaults,
};

/** Reads and checks a gateway config file; a missing file is an empty config. */
export function readGatewayConfig(file: string, mustExist = false): GatewayConfig {
  if (!fs.existsSync(file)) {
    if (mustExist) throw new ConfigError(`${file} does not exist: create it with asf config set --gateway ${file} <key> <value>`);
    return {};
  }
  let doc: unknown;
  try {
    doc = yaml.load(fs.readFileSync(file, 'utf8')) ?? {};
  } catch (err) {
    throw new ConfigError(`${file}: not valid YAML: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`${file}: expected a map of settings`);
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    const spec = specOf(gatewayKeys, key, `gateway setting in ${file}:`);
    // Values in the file go through the same checks as values typed on the command line.
    try {
      spec.parse(Array.isArray(value) ? value.join(',') : String(value));
    } catch (err) {
      throw new ConfigError(`${file}: ${key} ${(err as Error).message}`);
    }
  }
  return doc as GatewayConfig;
}

/** Capability folders of a config, resolved against the file's own folder. */
export function capabilitiesOf(config: GatewayConfig, file: string): string[] | undefined {
  return config.capabilities?.map((dir) => path.resolve(path.dirname(path.resolve(file)), dir));
}

/** The `asf up` option each setting stands for (where they are named differently). */
const upOption: Record<keyof GatewayConfig, string> = {
  port: 'port',
  host: 'host',
  replicas: 'replicas',
  bodyLimit: 'bodyLimit',
  timeoutMs: 'timeout',
  queueDepth: 'queueDepth',
  sessionTimeoutMs: 'sessionTimeout',
  readTimeoutMs: 'readTimeout',
  appIds: 'appId',
  logLevel: 'logLevel',
  capabilities: 'capability',
  quotas: 'quotas',
  signing: 'signing',
};

/**
 * `asf up --config FILE`: the file's settings replace the defaults; options given on the command
 * line win over both. `given(option)` says whether the user typed that option.
 */
export function withGatewayConfig(opts: Record<string, unknown>, file: string, given: (option: string) => boolean): Record<string, unknown> {
  const config = readGatewayConfig(file, true);
  const out = { ...opts };
  for (const key of Object.keys(config) as (keyof GatewayConfig)[]) {
    const option = upOption[key];
    if (given(option)) continue;
    const relative = (p: string) => path.resolve(path.dirname(path.resolve(file)), p);
    out[option] =
      key === 'capabilities' ? capabilitiesOf(config, file) : key === 'appIds' ? config.appIds?.map(String) : key === 'quotas' || key === 'signing' ? relative(String(config[key])) : config[key];
  }
  return out;
}
