// What an install step says when it stops: the message a user reads (exit 1), never a stack trace.
export class InstallError extends Error {
  override name = 'InstallError';
}

/** Stops the install with `message`. */
export function fail(message: string): never {
  throw new InstallError(message);
}
