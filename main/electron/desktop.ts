// Wiring of the desktop app: the local API host, the Settings window and quit handling, over injected Electron objects.

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { createDefaultHostLog } from '../host/host-log.js';
import { LocalApiHost } from '../host/local-api-host.js';
import { FileSettingsStore } from '../host/settings-store.js';
import { createLocalApiHandlers, registerLocalApiIpc } from './ipc.js';
import { UtilityProcessLauncher } from './utility-process-launcher.js';

import type {
  App,
  BrowserWindowConstructorOptions,
  IpcMain,
  Shell,
  WebContents,
  WebContentsWillNavigateEventParams,
} from 'electron';
import type { HostLog } from '../host/host-log.js';
import type { UtilityProcessLauncherOptions } from './utility-process-launcher.js';

/** File names inside Electron's userData folder. */
export const SETTINGS_FILE_NAME = 'local-api-settings.json';
export const DISCOVERY_FILE_NAME = 'local-api.json';
export const DATABASE_FILE_NAME = 'metoyou.sqlite';

/** The part of WebContents the app uses; Electron's own object and the test fake both satisfy it. */
export interface DesktopWebContents extends Pick<WebContents, 'send' | 'isDestroyed' | 'setWindowOpenHandler'> {
  on(event: 'will-navigate', listener: (event: Electron.Event<WebContentsWillNavigateEventParams>) => void): unknown;
}

/** The part of `app` the desktop app uses. */
export interface DesktopAppModule extends Pick<App, 'whenReady' | 'getPath' | 'quit' | 'requestSingleInstanceLock' | 'isPackaged'> {
  on(event: 'before-quit', listener: (event: Electron.Event) => void): unknown;
  on(event: 'second-instance', listener: () => void): unknown;
  on(event: 'activate', listener: () => void): unknown;
  on(event: 'window-all-closed', listener: () => void): unknown;
}

/** The part of BrowserWindow the app uses. */
export interface DesktopWindow {
  readonly webContents: DesktopWebContents;
  loadFile(filePath: string): Promise<void>;
  on(event: 'closed', listener: () => void): unknown;
  isDestroyed(): boolean;
  isMinimized(): boolean;
  restore(): void;
  focus(): void;
}

/** Electron's main-process modules, injected so that tests can pass fakes. */
export interface DesktopElectron {
  app: DesktopAppModule;
  BrowserWindow: new (options: BrowserWindowConstructorOptions) => DesktopWindow;
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  utilityProcess: UtilityProcessLauncherOptions['utilityProcess'];
  MessageChannelMain: UtilityProcessLauncherOptions['MessageChannelMain'];
  shell: Pick<Shell, 'openExternal'>;
}

export interface DesktopPaths {
  /** Compiled sidecar entry, `dist/sidecar/main.js`. */
  sidecarModulePath: string;
  /** Compiled preload script, `dist/main/electron/preload.cjs`. */
  preloadPath: string;
  /** Settings page, `dist/main/renderer/settings.html`. */
  settingsPagePath: string;
  /** Demo database of a development checkout, `var/demo.sqlite`. */
  devDatabasePath: string;
}

export interface DesktopOptions {
  paths: DesktopPaths;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  log?: HostLog;
}

/** Paths next to this module in `dist/main/electron/`, which the build lays out like the source tree. */
export function defaultDesktopPaths(): DesktopPaths {
  const path = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
  return {
    sidecarModulePath: path('../../sidecar/main.js'),
    preloadPath: path('./preload.cjs'),
    settingsPagePath: path('../renderer/settings.html'),
    devDatabasePath: path('../../../var/demo.sqlite'),
  };
}

/**
 * Picks the desktop database: `METOYOU_DB` when set, else `metoyou.sqlite` in
 * userData. An unpackaged app (a development checkout) without that file uses
 * the demo database when it exists. When no file exists the userData path is
 * returned, and the sidecar reports DATABASE_UNAVAILABLE.
 */
export function resolveDatabasePath(options: {
  env: NodeJS.ProcessEnv;
  userDataPath: string;
  isPackaged: boolean;
  devDatabasePath: string;
  exists?: (path: string) => boolean;
}): string {
  const exists = options.exists ?? existsSync;
  const fromEnv = options.env.METOYOU_DB;
  if (fromEnv !== undefined && fromEnv.trim() !== '') return resolve(fromEnv);

  const userDatabase = join(options.userDataPath, DATABASE_FILE_NAME);
  if (options.isPackaged || exists(userDatabase)) return userDatabase;
  return exists(options.devDatabasePath) ? options.devDatabasePath : userDatabase;
}

/** Web preferences of the Settings window: an isolated, sandboxed page that reaches Node only through the preload. */
export function settingsWindowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    width: 860,
    height: 920,
    minWidth: 480,
    minHeight: 400,
    title: 'MetoYou – Local API',
    webPreferences: {
      contextIsolation: true,
      nodeIntegration: false,
      sandbox: true,
      preload: preloadPath,
    },
  };
}

/** Returns true for an http(s) URL under the API's base URL, the only links the page may open in the browser. */
export function isLocalApiLink(url: string, baseUrl: string | null): boolean {
  if (baseUrl === null) return false;
  let parsed: URL;
  let base: URL;
  try {
    parsed = new URL(url);
    base = new URL(baseUrl);
  } catch {
    return false;
  }
  return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.origin === base.origin;
}

export interface RunningDesktopApp {
  readonly host: LocalApiHost;
  /** The Settings window, or null after it was closed. */
  window(): DesktopWindow | null;
}

/**
 * Starts the desktop app: waits for `app.whenReady()` (utilityProcess.fork
 * fails before it), creates the host and the Settings window, and stops the
 * sidecar once before the app quits. Returns null when another instance
 * already runs, because two hosts would compete for one port.
 */
export async function runDesktopApp(electron: DesktopElectron, options: DesktopOptions): Promise<RunningDesktopApp | null> {
  const { app } = electron;
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const log = options.log ?? createDefaultHostLog();

  if (!app.requestSingleInstanceLock()) {
    log.info({}, 'another instance of the desktop app is running; quitting');
    app.quit();
    return null;
  }

  let host: LocalApiHost | null = null;
  let stopState: 'running' | 'stopping' | 'stopped' = 'running';

  // The first before-quit is cancelled until the sidecar has stopped, and the quit that follows passes through.
  app.on('before-quit', (event) => {
    if (host === null || stopState === 'stopped') return;
    event.preventDefault();
    if (stopState === 'stopping') return;
    stopState = 'stopping';
    host
      .stop()
      .catch((error: unknown) => log.error({ error: (error as Error).message }, 'stopping the local API failed'))
      .finally(() => {
        stopState = 'stopped';
        app.quit();
      });
  });

  await app.whenReady();

  const userDataPath = app.getPath('userData');
  const databasePath = resolveDatabasePath({
    env,
    userDataPath,
    isPackaged: app.isPackaged,
    devDatabasePath: options.paths.devDatabasePath,
  });
  log.info({ databasePath, userDataPath }, 'desktop app ready');

  const launcher = new UtilityProcessLauncher({
    utilityProcess: electron.utilityProcess,
    MessageChannelMain: electron.MessageChannelMain,
    modulePath: options.paths.sidecarModulePath,
    log,
  });
  const runningHost = new LocalApiHost({
    launcher,
    databasePath,
    settingsStore: new FileSettingsStore(join(userDataPath, SETTINGS_FILE_NAME), log),
    discoveryFilePath: join(userDataPath, DISCOVERY_FILE_NAME),
    log,
  });
  host = runningHost;

  let window: DesktopWindow | null = null;
  const openWindow = (): DesktopWindow => {
    const created = new electron.BrowserWindow(settingsWindowOptions(options.paths.preloadPath));
    created.webContents.setWindowOpenHandler(({ url }) => {
      if (isLocalApiLink(url, runningHost.getStatus().baseUrl)) {
        electron.shell.openExternal(url).catch((error: unknown) => {
          log.warn({ url, error: (error as Error).message }, 'opening a documentation link failed');
        });
      }
      return { action: 'deny' };
    });
    // The window shows only the bundled Settings page, so any navigation away from it is cancelled.
    created.webContents.on('will-navigate', (event) => event.preventDefault());
    created.on('closed', () => {
      if (window === created) window = null;
    });
    created.loadFile(options.paths.settingsPagePath).catch((error: unknown) => {
      log.error({ error: (error as Error).message }, 'loading the Settings page failed');
    });
    window = created;
    return created;
  };

  registerLocalApiIpc(electron.ipcMain, createLocalApiHandlers(runningHost, log), () => {
    const current = window;
    return current !== null && !current.isDestroyed() ? current.webContents : null;
  });

  app.on('second-instance', () => {
    const current = window ?? openWindow();
    if (current.isMinimized()) current.restore();
    current.focus();
  });
  app.on('activate', () => {
    if (window === null) openWindow();
  });
  app.on('window-all-closed', () => {
    // macOS apps stay running without windows until the user quits them from the menu or dock.
    if (platform !== 'darwin') app.quit();
  });

  openWindow();

  // A failed start is logged, because a rejection here would reach the entry point and end the app.
  await runningHost.start().catch((error: unknown) => {
    log.error({ error: (error as Error).message }, 'starting the local API failed');
  });

  return { host: runningHost, window: () => window };
}
