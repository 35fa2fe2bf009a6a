import { fileURLToPath } from 'node:url';

/** Root of the installed package (compiled files live in dist/, sources and assets beside it). */
export const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
