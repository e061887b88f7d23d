// Logic of the "Local API" Settings page, which reaches the host only through the preload's `window.localApi`.

import type { SidecarStatus, TokenInfo } from '../../shared/protocol.js';
import type { LocalApiSettings } from '../../shared/settings.js';
import type { LocalApi, LocalApiError } from '../electron/ipc-channels.js';

declare global {
  interface Window {
    localApi?: LocalApi;
  }
}

type ToggleKey = 'enabled' | 'exposeOnLan' | 'scalarDocs' | 'docusaurusDocs';
type ListKey = 'allowedServers' | 'allowedOrigins';

const TOGGLE_KEYS: readonly ToggleKey[] = ['enabled', 'exposeOnLan', 'scalarDocs', 'docusaurusDocs'];
const LIST_KEYS: readonly ListKey[] = ['allowedServers', 'allowedOrigins'];

const LIST_ENTRY_NAMES: Record<ListKey, string> = {
  allowedServers: 'signaling server',
  allowedOrigins: 'origin',
};

/** Path of each documentation site under the server's base URL. */
const DOC_PATHS: Record<'scalarDocs' | 'docusaurusDocs', string> = {
  scalarDocs: '/docs',
  docusaurusDocs: '/docusaurus',
};

const STATE_LABELS: Record<SidecarStatus['state'], string> = {
  starting: 'Starting',
  listening: 'Listening',
  stopped: 'Stopped',
  error: 'Error',
};

function byId<T extends HTMLElement>(id: string, type: { new (): T; prototype: T }): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`The Settings page has no #${id} element.`);
  return element;
}

let api: LocalApi;
let settings: LocalApiSettings | null = null;
let status: SidecarStatus | null = null;

// Changes run one at a time, so a fast series of toggles reaches the host in the order the user made them.
let pending: Promise<unknown> = Promise.resolve();
function enqueue<T>(operation: () => Promise<T>): Promise<T> {
  const next = pending.then(operation);
  pending = next.catch(() => undefined);
  return next;
}

// ---- errors ----

/** Returns the input that a field error describes, which gets aria-invalid. */
function inputOfField(field: string): HTMLInputElement | null {
  const id = (LIST_KEYS as readonly string[]).includes(field) ? `${field}-input` : field;
  const element = document.getElementById(id);
  return element instanceof HTMLInputElement ? element : null;
}

function setFieldError(field: string, messages: string[]): void {
  const errorElement = document.getElementById(`${field}-error`);
  const input = inputOfField(field);
  if (errorElement === null) {
    // A field without its own error line, such as an unknown key, is reported at the top of the page.
    setFormError(messages.join(' '));
    return;
  }
  errorElement.textContent = messages.join(' ');
  errorElement.hidden = messages.length === 0;
  if (input !== null) {
    if (messages.length > 0) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }
}

function clearFieldErrors(fields: readonly string[]): void {
  for (const field of fields) setFieldError(field, []);
  setFormError('');
}

function setFormError(message: string): void {
  const element = byId('form-error', HTMLParagraphElement);
  element.textContent = message;
  element.hidden = message === '';
}

function showError(error: LocalApiError, fallbackField?: string): void {
  const fieldErrors = error.fieldErrors ?? {};
  const fields = Object.keys(fieldErrors);
  if (fields.length === 0) {
    if (fallbackField !== undefined && document.getElementById(`${fallbackField}-error`) !== null) {
      setFieldError(fallbackField, [error.message]);
    } else {
      setFormError(error.message);
    }
    return;
  }
  for (const field of fields) setFieldError(field, fieldErrors[field] ?? []);
}

// ---- settings ----

function renderSettings(options: { keepPortInput?: boolean } = {}): void {
  if (settings === null) return;
  const current = settings;

  for (const key of TOGGLE_KEYS) byId(key, HTMLInputElement).checked = current[key];
  if (!options.keepPortInput) byId('port', HTMLInputElement).value = String(current.port);
  byId('lan-warning', HTMLParagraphElement).classList.toggle('active', current.exposeOnLan);

  for (const key of LIST_KEYS) renderList(key, current[key]);
  renderAddresses();
  renderDocLinks();
}

function renderList(key: ListKey, entries: string[]): void {
  const list = byId(`${key}-list`, HTMLUListElement);
  const name = LIST_ENTRY_NAMES[key];
  const items = entries.map((entry) => {
    const item = document.createElement('li');
    const text = document.createElement('span');
    text.textContent = entry;
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.textContent = 'Remove';
    remove.setAttribute('aria-label', `Remove ${name} ${entry}`);
    remove.addEventListener('click', () => void removeListEntry(key, entry));
    item.append(text, remove);
    return item;
  });
  if (items.length === 0) {
    const empty = document.createElement('li');
    empty.className = 'empty';
    empty.textContent = key === 'allowedServers' ? 'No servers yet, so no script can log in.' : 'No origins: browsers may not call the API.';
    items.push(empty);
  }
  list.replaceChildren(...items);
}

async function applyChange(change: Partial<LocalApiSettings>, fields: readonly string[]): Promise<boolean> {
  return enqueue(async () => {
    clearFieldErrors(fields);
    const result = await api.updateSettings(change);
    if (result.ok) {
      settings = result.value;
      renderSettings();
      return true;
    }
    showError(result.error, fields[0]);
    // The port field keeps the rejected value so the user can correct it, while toggles snap back to the saved state.
    renderSettings({ keepPortInput: 'port' in change });
    return false;
  });
}

async function applyPort(): Promise<void> {
  const input = byId('port', HTMLInputElement);
  // valueAsNumber is NaN for an empty or non-numeric field, which the host rejects with a message.
  await applyChange({ port: input.valueAsNumber }, ['port']);
}

async function addListEntry(key: ListKey): Promise<void> {
  const input = byId(`${key}-input`, HTMLInputElement);
  const entry = input.value.trim();
  if (entry === '') {
    setFieldError(key, [`Enter a ${LIST_ENTRY_NAMES[key]} to add.`]);
    input.focus();
    return;
  }
  const current = settings?.[key] ?? [];
  if (await applyChange({ [key]: [...current, entry] }, [key])) {
    input.value = '';
  }
  input.focus();
}

async function removeListEntry(key: ListKey, entry: string): Promise<void> {
  const current = settings?.[key] ?? [];
  await applyChange({ [key]: current.filter((value) => value !== entry) }, [key]);
  // The removed entry's button is gone, so focus returns to the list's input instead of the page start.
  byId(`${key}-input`, HTMLInputElement).focus();
}

// ---- status ----

function renderStatus(): void {
  const line = byId('status', HTMLParagraphElement);
  if (status === null) return;
  line.dataset.state = status.state;

  const label = document.createElement('strong');
  label.textContent = STATE_LABELS[status.state];
  const parts: Node[] = [label];
  if (status.state === 'listening' && status.baseUrl !== null) {
    const url = document.createElement('code');
    url.textContent = status.baseUrl;
    parts.push(document.createTextNode(' at '), url);
  }
  if (status.message !== '' && (status.baseUrl === null || !status.message.includes(status.baseUrl))) {
    parts.push(document.createTextNode(` – ${status.message}`));
  }
  line.replaceChildren(...parts);

  renderAddresses();
  renderDocLinks();
}

function formatAddress(address: string, port: number | null): string {
  const host = address.includes(':') ? `[${address}]` : address;
  return port === null ? host : `${host}:${port}`;
}

function renderAddresses(): void {
  const target = byId('lan-address-list', HTMLSpanElement);
  if (status !== null && status.state === 'listening' && status.addresses.length > 0) {
    const port = status.port;
    target.textContent = status.addresses.map((address) => formatAddress(address, port)).join(', ');
    return;
  }
  const lan = settings?.exposeOnLan ?? false;
  target.textContent = lan
    ? 'every network interface of this computer, once the server is running'
    : 'this computer only (loopback), once the server is running';
}

function renderDocLinks(): void {
  const baseUrl = status?.state === 'listening' ? status.baseUrl : null;
  for (const key of ['scalarDocs', 'docusaurusDocs'] as const) {
    const link = byId(`${key}-link`, HTMLAnchorElement);
    const visible = baseUrl !== null && settings?.[key] === true;
    link.hidden = !visible;
    if (visible) link.href = `${baseUrl}${DOC_PATHS[key]}`;
    else link.removeAttribute('href');
  }
}

// ---- tokens ----

function formatTime(epochMilliseconds: number): HTMLTimeElement {
  const time = document.createElement('time');
  const date = new Date(epochMilliseconds);
  if (Number.isNaN(date.getTime())) {
    time.textContent = 'unknown';
    return time;
  }
  time.dateTime = date.toISOString();
  time.textContent = date.toLocaleString();
  return time;
}

function cell(content: string | Node, className?: string): HTMLTableCellElement {
  const element = document.createElement('td');
  if (className !== undefined) element.className = className;
  element.append(content);
  return element;
}

function renderTokens(tokens: TokenInfo[]): void {
  const rows = tokens.map((token) => {
    const row = document.createElement('tr');
    const revoke = document.createElement('button');
    revoke.type = 'button';
    revoke.textContent = 'Revoke';
    revoke.setAttribute('aria-label', `Revoke the token of ${token.username} on ${token.serverUrl}`);
    revoke.addEventListener('click', () => void revokeToken(token.id));
    row.append(
      cell(token.username),
      cell(token.serverUrl, 'url'),
      cell(formatTime(token.issuedAt)),
      cell(formatTime(token.expiresAt)),
      cell(revoke, 'action'),
    );
    return row;
  });
  byId('tokens-body', HTMLTableSectionElement).replaceChildren(...rows);
  byId('tokens-table', HTMLTableElement).hidden = tokens.length === 0;
  byId('tokens-revoke-all', HTMLButtonElement).disabled = tokens.length === 0;
  byId('tokens-message', HTMLParagraphElement).textContent =
    tokens.length === 0 ? 'No active tokens.' : `${tokens.length} active ${tokens.length === 1 ? 'token' : 'tokens'}.`;
}

async function loadTokens(): Promise<void> {
  const result = await api.listTokens();
  if (result.ok) {
    renderTokens(result.value);
    return;
  }
  renderTokens([]);
  byId('tokens-message', HTMLParagraphElement).textContent = result.error.message;
}

async function revokeToken(tokenId: string): Promise<void> {
  await enqueue(async () => {
    clearFieldErrors(['tokenId']);
    const result = await api.revokeToken(tokenId);
    if (!result.ok) showError(result.error, 'tokenId');
    await loadTokens();
  });
  byId('tokens-refresh', HTMLButtonElement).focus();
}

async function revokeAllTokens(): Promise<void> {
  await enqueue(async () => {
    clearFieldErrors(['tokenId']);
    const result = await api.revokeAllTokens();
    if (!result.ok) showError(result.error, 'tokenId');
    await loadTokens();
  });
  byId('tokens-refresh', HTMLButtonElement).focus();
}

// ---- start ----

function bindControls(): void {
  byId('settings-form', HTMLFormElement).addEventListener('submit', (event) => event.preventDefault());

  for (const key of TOGGLE_KEYS) {
    const input = byId(key, HTMLInputElement);
    input.addEventListener('change', () => void applyChange({ [key]: input.checked }, [key]));
  }

  const port = byId('port', HTMLInputElement);
  port.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      void applyPort();
    }
  });
  byId('port-apply', HTMLButtonElement).addEventListener('click', () => void applyPort());

  for (const key of LIST_KEYS) {
    const input = byId(`${key}-input`, HTMLInputElement);
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        event.preventDefault();
        void addListEntry(key);
      }
    });
    byId(`${key}-add`, HTMLButtonElement).addEventListener('click', () => void addListEntry(key));
  }

  byId('tokens-refresh', HTMLButtonElement).addEventListener('click', () => void loadTokens());
  byId('tokens-revoke-all', HTMLButtonElement).addEventListener('click', () => void revokeAllTokens());
}

async function start(): Promise<void> {
  if (window.localApi === undefined) {
    setFormError('The Settings bridge is not available, so the local API cannot be configured from this page.');
    return;
  }
  api = window.localApi;
  bindControls();

  let lastState: SidecarStatus['state'] | null = null;
  api.onStatus((next) => {
    status = next;
    renderStatus();
    // A state change may mean a restarted sidecar, whose token list is empty.
    if (next.state !== lastState) void loadTokens();
    lastState = next.state;
  });

  api.onTokensChanged(() => void loadTokens());
  // Scripts may have logged in while the window was in the background.
  window.addEventListener('focus', () => void loadTokens());

  const [settingsResult, statusResult] = await Promise.all([api.getSettings(), api.getStatus()]);
  if (settingsResult.ok) {
    settings = settingsResult.value;
    renderSettings();
  } else {
    setFormError(settingsResult.error.message);
  }
  // A status pushed while the request was in flight is newer than the reply, so it wins.
  if (statusResult.ok && status === null) {
    status = statusResult.value;
    lastState = status.state;
    renderStatus();
  }
  await loadTokens();
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', () => void start());
} else {
  void start();
}
