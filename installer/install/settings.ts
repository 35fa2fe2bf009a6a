// What an install, uninstall, status or check was asked to do, checked once before any step runs:
// the same rules and messages whether the options came from `asf` or from the tarball's install.sh.
import path from 'node:path';
import { fail } from './errors.js';
import type { RegistryTarget } from './push.js';

export type Action = 'install' | 'uninstall' | 'status' | 'check';

/** The options as given (strings as typed; commander fills them). */
export interface GivenOptions {
  bundle?: string;
  registry?: string;
  registryUser?: string;
  registryPassword?: string;
  plainHttp?: boolean;
  insecure?: boolean;
  jobs?: string;
  serveRegistry?: string | boolean;
  advertise?: string;
  applyMirror?: boolean;
  release?: string;
  namespace?: string;
  profile?: string;
  nodePort?: string;
  set?: string[];
  stateDir?: string;
  skipPreflight?: boolean;
  skipVerify?: boolean;
  check?: boolean;
  checkTimeout?: string;
  purgeRegistry?: boolean;
  gateway?: string;
}

export interface Settings {
  action: Action;
  /** The extracted bundle root, when one was given (status and uninstall need none). */
  bundle?: string;
  /** The registry pushed to (install) or asked (status). */
  registry?: RegistryTarget;
  jobs: number;
  /** Serve the bundle's images from this node on this address instead of pushing them. */
  serveAddr?: string;
  advertise?: string;
  applyMirror: boolean;
  release: string;
  namespace: string;
  profile?: 'cpu' | 'gpu';
  nodePort: number;
  sets: string[];
  stateDir: string;
  skipPreflight: boolean;
  skipVerify: boolean;
  postCheck: boolean;
  checkTimeoutSeconds: number;
  purgeRegistry: boolean;
  gateway?: string;
  /** How a user re-runs the check, in hints: the command they typed it through. */
  checkCommand: string;
}

export const defaults = { release: 'asf', namespace: 'asf', nodePort: 30889, jobs: 4, serveAddr: '0.0.0.0:5000', checkTimeoutSeconds: 600, stateDir: '/var/lib/asf' };

function positive(value: string | undefined, fallback: number, message: string): number {
  if (value === undefined) return fallback;
  if (!/^[1-9][0-9]*$/.test(value)) fail(`${message}, got '${value}'`);
  return Number(value);
}

export function settingsFor(action: Action, given: GivenOptions, env: NodeJS.ProcessEnv = process.env): Settings {
  const jobs = positive(given.jobs, defaults.jobs, '--jobs must be a positive integer');
  if (given.nodePort !== undefined && !/^[0-9]+$/.test(given.nodePort)) fail(`--node-port must be a number, got '${given.nodePort}'`);
  const checkTimeoutSeconds = positive(given.checkTimeout, defaults.checkTimeoutSeconds, '--check-timeout must be a positive number of seconds');
  const profile = given.profile;
  if (profile !== undefined && profile !== 'cpu' && profile !== 'gpu') fail(`--profile must be cpu or gpu, got '${profile}'`);
  if (given.registry !== undefined && !/^[A-Za-z0-9.-]+(:[0-9]+)?$/.test(given.registry)) {
    fail(`--registry must be HOST or HOST:PORT (no scheme or path), got '${given.registry}'`);
  }
  const user = given.registryUser ?? env['ASF_REGISTRY_USER'] ?? '';
  const password = given.registryPassword ?? env['ASF_REGISTRY_PASSWORD'] ?? '';
  if (user && !password) fail('--registry-user needs --registry-password');
  if (given.gateway !== undefined && !/^https?:\/\/\S+$/.test(given.gateway)) fail(`--gateway must be a URL such as http://HOST:PORT, got '${given.gateway}'`);
  const registry: RegistryTarget | undefined = given.registry
    ? { address: given.registry, plainHttp: given.plainHttp === true, insecure: given.insecure === true, ...(user ? { user, password } : {}) }
    : undefined;
  return {
    action,
    bundle: given.bundle === undefined ? undefined : path.resolve(given.bundle),
    registry,
    jobs,
    serveAddr: given.serveRegistry === undefined || given.serveRegistry === false ? undefined : given.serveRegistry === true ? defaults.serveAddr : given.serveRegistry,
    advertise: given.advertise,
    applyMirror: given.applyMirror === true,
    release: given.release ?? defaults.release,
    namespace: given.namespace ?? defaults.namespace,
    profile,
    nodePort: given.nodePort === undefined ? defaults.nodePort : Number(given.nodePort),
    sets: given.set ?? [],
    stateDir: path.resolve(given.stateDir ?? env['ASF_STATE_DIR'] ?? defaults.stateDir),
    skipPreflight: given.skipPreflight === true,
    skipVerify: given.skipVerify === true,
    postCheck: given.check !== false,
    checkTimeoutSeconds,
    purgeRegistry: given.purgeRegistry === true,
    gateway: given.gateway?.replace(/\/+$/, ''),
    checkCommand: env['ASF_INSTALLER_COMMAND'] ? `${env['ASF_INSTALLER_COMMAND']} check` : 'asf check',
  };
}
