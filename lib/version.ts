// The package version, read from package.json at run time.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { packageRoot } from './native.js';

export const VERSION: string = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
