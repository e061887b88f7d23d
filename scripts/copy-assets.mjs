// Copies the Settings page's HTML and CSS next to the compiled settings.js, because tsc emits only JavaScript.

import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ASSET_FOLDERS = ['main/renderer'];
const ASSET_EXTENSIONS = ['.html', '.css'];

for (const folder of ASSET_FOLDERS) {
  const source = join(root, folder);
  const target = join(root, 'dist', folder);
  await mkdir(target, { recursive: true });
  for (const name of await readdir(source)) {
    if (!ASSET_EXTENSIONS.some((extension) => name.endsWith(extension))) continue;
    await copyFile(join(source, name), join(target, name));
  }
}
