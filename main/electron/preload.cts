// Preload of the Settings window: exposes `window.localApi`, one function per IPC handler, through the context bridge.

import { contextBridge, ipcRenderer } from 'electron';

import type { IpcRendererEvent } from 'electron';
import type { SidecarStatus } from '../../shared/protocol.js';
import type { LOCAL_API_CHANNELS, LocalApi } from './ipc-channels.js';

// A sandboxed preload can require only 'electron' and a few Node built-ins, not
// ipc-channels.js, so the names are repeated here and `satisfies` keeps them equal.
const CHANNELS = {
  getSettings: 'local-api:get-settings',
  updateSettings: 'local-api:update-settings',
  getStatus: 'local-api:get-status',
  listTokens: 'local-api:list-tokens',
  revokeToken: 'local-api:revoke-token',
  revokeAllTokens: 'local-api:revoke-all-tokens',
  status: 'local-api:status',
  tokensChanged: 'local-api:tokens-changed',
} as const satisfies typeof LOCAL_API_CHANNELS;

// Each function passes exactly its own argument, so the page cannot send extra values or reach ipcRenderer itself.
const localApi: LocalApi = {
  getSettings: () => ipcRenderer.invoke(CHANNELS.getSettings),
  updateSettings: (change) => ipcRenderer.invoke(CHANNELS.updateSettings, change),
  getStatus: () => ipcRenderer.invoke(CHANNELS.getStatus),
  listTokens: () => ipcRenderer.invoke(CHANNELS.listTokens),
  revokeToken: (tokenId) => ipcRenderer.invoke(CHANNELS.revokeToken, tokenId),
  revokeAllTokens: () => ipcRenderer.invoke(CHANNELS.revokeAllTokens),
  onStatus: (callback) => {
    if (typeof callback !== 'function') throw new TypeError('onStatus expects a function.');
    // The IPC event carries `sender` (ipcRenderer itself), so only the status reaches the page.
    const listener = (_event: IpcRendererEvent, status: SidecarStatus) => callback(status);
    ipcRenderer.on(CHANNELS.status, listener);
    return () => {
      ipcRenderer.removeListener(CHANNELS.status, listener);
    };
  },
  onTokensChanged: (callback) => {
    if (typeof callback !== 'function') throw new TypeError('onTokensChanged expects a function.');
    const listener = () => callback();
    ipcRenderer.on(CHANNELS.tokensChanged, listener);
    return () => {
      ipcRenderer.removeListener(CHANNELS.tokensChanged, listener);
    };
  },
};

contextBridge.exposeInMainWorld('localApi', localApi);
