// Entry point of the desktop app under Electron: `electron dist/main/electron/app.js`.

import { join } from 'node:path';

import { app, BrowserWindow, ipcMain, MessageChannelMain, shell, utilityProcess } from 'electron';

import { createDefaultHostLog } from '../host/host-log.js';
import { defaultDesktopPaths, runDesktopApp } from './desktop.js';

const log = createDefaultHostLog();

// Started on this file rather than on a packaged app, Electron would name the app "Electron"
// and keep its userData folder under that name, away from the MetoYou database.
app.setName('MetoYou');
app.setPath('userData', join(app.getPath('appData'), 'MetoYou'));

runDesktopApp(
  { app, BrowserWindow, ipcMain, utilityProcess, MessageChannelMain, shell },
  { paths: defaultDesktopPaths(), log },
).catch((error: unknown) => {
  log.error({ error: (error as Error).message }, 'the desktop app failed to start');
  app.exit(1);
});
