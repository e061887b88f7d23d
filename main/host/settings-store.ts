// Persistence of the local API settings: a JSON file in the user-data folder, or memory for tests and the CLI.

import { readFile } from 'node:fs/promises';

import { DEFAULT_SETTINGS, InvalidSettingsError, parseSettings } from '../../shared/settings.js';
import { writeFileAtomic } from './atomic-write.js';
import { createDefaultHostLog } from './host-log.js';

import type { LocalApiSettings } from '../../shared/settings.js';
import type { HostLog } from './host-log.js';

function defaultSettings(): LocalApiSettings {
  return structuredClone({ ...DEFAULT_SETTINGS });
}

/**
 * Fills missing fields before validation, because the schema's strict fields
 * skip yup's defaults. A value that is not a plain object is passed through
 * unchanged, so validation rejects it.
 */
function withDefaults(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return { ...DEFAULT_SETTINGS, ...value };
}

export interface SettingsStore {
  /** Returns the saved settings, or the defaults when nothing valid is saved. */
  load(): Promise<LocalApiSettings>;
  save(settings: LocalApiSettings): Promise<void>;
}

/**
 * Stores settings as JSON at `path`. A missing file yields the defaults. A
 * file that is not JSON or fails validation also yields the defaults, with a
 * warning, so a damaged file never keeps the app from starting. The damaged
 * file stays in place until the next save replaces it.
 */
export class FileSettingsStore implements SettingsStore {
  private readonly log: HostLog;

  constructor(
    readonly path: string,
    log?: HostLog,
  ) {
    this.log = log ?? createDefaultHostLog();
  }

  async load(): Promise<LocalApiSettings> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return defaultSettings();
      throw error;
    }

    try {
      return parseSettings(withDefaults(JSON.parse(text)));
    } catch (error) {
      if (error instanceof SyntaxError || error instanceof InvalidSettingsError) {
        this.log.warn(
          { path: this.path, error: error.message },
          'settings file is invalid; using the default settings',
        );
        return defaultSettings();
      }
      throw error;
    }
  }

  async save(settings: LocalApiSettings): Promise<void> {
    const valid = parseSettings(settings);
    await writeFileAtomic(this.path, `${JSON.stringify(valid, null, 2)}\n`, 0o600);
  }
}

/** Keeps settings in memory only; the headless CLI uses it so command-line options are never persisted. */
export class MemorySettingsStore implements SettingsStore {
  private settings: LocalApiSettings;

  /** Throws InvalidSettingsError when `initial` is invalid. */
  constructor(initial: Partial<LocalApiSettings> = {}) {
    this.settings = parseSettings({ ...DEFAULT_SETTINGS, ...initial });
  }

  async load(): Promise<LocalApiSettings> {
    return structuredClone(this.settings);
  }

  async save(settings: LocalApiSettings): Promise<void> {
    this.settings = parseSettings(settings);
  }
}
