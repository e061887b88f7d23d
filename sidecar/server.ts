// HTTP listeners of the sidecar: binds loopback (or LAN) addresses and rebinds without a restart.

import { createServer, type RequestListener, type Server } from 'node:http';

import type { SidecarErrorReason } from '../shared/protocol.js';
import { logger } from './log.js';

export interface BindTarget {
  port: number;
  exposeOnLan: boolean;
}

export interface ServerTimeouts {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  /**
   * How often Node checks open requests against headersTimeout and
   * requestTimeout. Node's default of 30 s would let a client that trickles
   * header bytes hold a socket for up to 40 s despite a 10 s headersTimeout.
   */
  connectionsCheckingInterval: number;
}

/** Timeouts that keep slow or stuck clients from holding sockets, in milliseconds. */
export const SERVER_TIMEOUTS: Readonly<ServerTimeouts> = Object.freeze({
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
  connectionsCheckingInterval: 1_000,
});

export class BindError extends Error {
  override name = 'BindError';
  constructor(
    readonly reason: SidecarErrorReason,
    message: string,
  ) {
    super(message);
  }
}

interface AddressPlan {
  host: string;
  /** True when failing to bind it is acceptable, such as IPv6 on a machine without it. */
  optional: boolean;
}

function addressPlan(exposeOnLan: boolean): AddressPlan[] {
  return exposeOnLan
    ? [
        { host: '0.0.0.0', optional: false },
        { host: '::', optional: true },
      ]
    : [
        { host: '127.0.0.1', optional: false },
        { host: '::1', optional: true },
      ];
}

function toBindError(error: NodeJS.ErrnoException, host: string, port: number): BindError {
  switch (error.code) {
    case 'EADDRINUSE':
      return new BindError('PORT_IN_USE', `Port ${port} is already in use by another program; choose another port in Settings > Local API.`);
    case 'EACCES':
    case 'EPERM':
      return new BindError('PERMISSION_DENIED', `Permission denied to listen on ${host}:${port}; choose a port from 1024 to 65535.`);
    case 'EADDRNOTAVAIL':
    case 'EAFNOSUPPORT':
      return new BindError('ADDRESS_UNAVAILABLE', `Address ${host} is not available on this machine.`);
    default:
      return new BindError('START_FAILED', `Cannot listen on ${host}:${port}: ${error.message}`);
  }
}

/** Status line of the bare response to a request that Node rejected before Koa saw it. */
function clientErrorStatus(code: string | undefined): string {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return '408 Request Timeout';
    case 'HPE_HEADER_OVERFLOW':
      return '431 Request Header Fields Too Large';
    default:
      return '400 Bad Request';
  }
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    // ipv6Only keeps `::` from also taking the IPv4 port that `0.0.0.0` holds.
    server.listen({ host, port, ipv6Only: host === '::' || host === '::1', exclusive: true });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Keep-alive connections would keep serving the old address, so they end now.
    server.closeAllConnections();
  });
}

/** The set of listening servers; `bind` replaces it, and the old servers close only after the new ones listen. */
export class Listeners {
  private servers: Server[] = [];
  private current: BindTarget | undefined;
  private addresses: string[] = [];
  private readonly timeouts: ServerTimeouts;

  /** `timeouts` overrides SERVER_TIMEOUTS, so that tests can use short ones. */
  constructor(
    private handler: RequestListener,
    timeouts: Partial<ServerTimeouts> = {},
  ) {
    this.timeouts = { ...SERVER_TIMEOUTS, ...timeouts };
  }

  /** Swaps the request handler; servers that already listen use it for their next request. */
  setHandler(handler: RequestListener): void {
    this.handler = handler;
  }

  get boundAddresses(): string[] {
    return [...this.addresses];
  }

  get target(): BindTarget | undefined {
    return this.current;
  }

  isBoundTo(target: BindTarget): boolean {
    return this.current?.port === target.port && this.current.exposeOnLan === target.exposeOnLan && this.servers.length > 0;
  }

  /** Listens on the addresses of `target`; throws BindError, after closing every listener, when it cannot. */
  async bind(target: BindTarget): Promise<string[]> {
    if (this.isBoundTo(target)) return this.boundAddresses;
    const previous = this.servers;
    const previousTarget = this.current;
    const portChanges = previousTarget !== undefined && previousTarget.port !== target.port;

    // The same port cannot be bound twice, so a LAN-only change closes the old listeners first.
    if (!portChanges) await this.closeAll();

    const created: Server[] = [];
    const addresses: string[] = [];
    try {
      for (const { host, optional } of addressPlan(target.exposeOnLan)) {
        const server = this.createHttpServer();
        try {
          await listen(server, host, target.port);
        } catch (caught) {
          const error = caught as NodeJS.ErrnoException;
          if (optional && (error.code === 'EADDRNOTAVAIL' || error.code === 'EAFNOSUPPORT')) {
            logger.warn({ host, port: target.port, code: error.code }, 'optional address is not available; skipping it');
            continue;
          }
          throw toBindError(error, host, target.port);
        }
        created.push(server);
        addresses.push(host);
      }
    } catch (error) {
      await Promise.all(created.map(closeServer));
      await Promise.all(previous.map(closeServer));
      this.servers = [];
      this.addresses = [];
      this.current = undefined;
      throw error;
    }

    await Promise.all(previous.filter((server) => server.listening).map(closeServer));
    this.servers = created;
    this.addresses = addresses;
    this.current = { ...target };
    logger.info({ port: target.port, addresses }, 'listening');
    return addresses;
  }

  async closeAll(): Promise<void> {
    const servers = this.servers;
    this.servers = [];
    this.addresses = [];
    this.current = undefined;
    await Promise.all(servers.map(closeServer));
  }

  private createHttpServer(): Server {
    // requireHostHeader is off so that a request without Host reaches the Host guard and gets a coded error.
    const server = createServer({ requireHostHeader: false, ...this.timeouts }, (request, response) => this.handler(request, response));
    server.headersTimeout = this.timeouts.headersTimeout;
    server.requestTimeout = this.timeouts.requestTimeout;
    server.keepAliveTimeout = this.timeouts.keepAliveTimeout;
    server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
      logger.debug({ code: error.code }, 'client error');
      if (socket.writable) socket.end(`HTTP/1.1 ${clientErrorStatus(error.code)}\r\nConnection: close\r\n\r\n`);
      else socket.destroy();
    });
    return server;
  }
}
