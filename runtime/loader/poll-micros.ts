/**
 * How long an idle Python worker or JS loader thread busy-polls for its next call before it
 * sleeps, in µs. One request at a time on a 2-core VM, echo-py answered in ~260 µs with the worker
 * polling against ~500 µs without (waking a sleeping worker on an idle CPU was most of it); the gap
 * between one call and the next there is 200–400 µs, so 1 ms catches it with room to spare.
 */
export const defaultPollMicros = 1000;

/** The polling time: $`envName`, else the capability.yaml value, else the default; 0 never polls. */
export function pollMicros(envName: string, configured: number | undefined, env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = env[envName];
  const micros = fromEnv ? Number(fromEnv) : (configured ?? defaultPollMicros);
  if (!Number.isInteger(micros) || micros < 0 || micros > 100_000) {
    throw new Error(`${envName} must be an integer from 0 to 100000, got '${fromEnv}'`);
  }
  return micros;
}
