// Copies of the demo database for tests: built once per run, copied for each test that needs one.

import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { generateDatabase } from '../../fixtures/generate.js';

let templatePromise: Promise<string> | undefined;
const directories: string[] = [];

/** Path of the demo database built for this test run; do not modify it, copy it with `copyDemoDatabase`. */
export function demoDatabaseTemplate(): Promise<string> {
  templatePromise ??= (async () => {
    const directory = await makeTempDir('metoyou-template-');
    const path = join(directory, 'demo.sqlite');
    await generateDatabase({ out: path });
    return path;
  })();
  return templatePromise;
}

export async function makeTempDir(prefix = 'metoyou-test-'): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), prefix));
  directories.push(directory);
  return directory;
}

/** Copies the demo database into a fresh temporary folder and returns the copy's path. */
export async function copyDemoDatabase(): Promise<string> {
  const template = await demoDatabaseTemplate();
  const directory = await makeTempDir();
  const path = join(directory, 'desktop.sqlite');
  await copyFile(template, path);
  return path;
}

/** Removes every temporary folder these helpers made; registered as a root hook. */
export async function removeTempDirs(): Promise<void> {
  await Promise.all(directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
}
