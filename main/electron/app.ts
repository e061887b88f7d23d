// Entry point of the desktop app under Electron: `electron dist/main/electron/app.js`.

import { app, BrowserWindow, ipcMain, MessageChannelMain, shell, utilityProcess } from 'electron';

import { createDefaultHostLog } from '../host/host-log.js';
import { defaultDesktopPaths, runDesktopApp } from './desktop.js';

const log = createDefaultHostLog();

runDesktopApp(
  { app, BrowserWindow, ipcMain, utilityProcess, MessageChannelMain, shell },
  { paths: defaultDesktopPaths(), log },
).catch((error: unknown) => {
  log.error({ error: (error as Error).message }, 'the desktop app failed to start');
  app.exit(1);
});
