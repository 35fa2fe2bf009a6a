// The gateway's default limits, in a module of their own so that the CLI can show them in --help
// without loading the gateway (fastify, gRPC, ajv) for every command.

// resolveIntervalMs: how often loader names (a Compose service) are looked up again for replicas
// that came or went; a loader found unreachable has its name looked up at once.
export const gatewayDefaults = { bodyLimit: 32 * 1024 * 1024, timeoutMs: 60_000, queueDepth: 256, resolveIntervalMs: 5000 };

export const streamDefaults = { sessionTimeoutMs: 180_000, readTimeoutMs: 15_000 };

/** What `asf up` does when neither its options nor a gateway config file say otherwise. */
export const upDefaults = { port: 8889, host: '127.0.0.1', replicas: 1, logLevel: 'warn' };
