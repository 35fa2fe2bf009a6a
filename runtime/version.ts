import { readPackageFile } from './paths.js';

/** ASF kit's version, as package.json states it (inside the executable: its embedded copy). */
export const kitVersion = (JSON.parse(readPackageFile('package.json').toString('utf8')) as { version: string }).version;
