// Entry point of the sidecar process: connects to the host, then serves the local API.

import type { HostToSidecarMessage, SidecarToHostMessage } from '../shared/protocol.js';
import { isHostToSidecarMessage } from '../shared/protocol.js';
import { logger } from './log.js';
import { SidecarRuntime } from './runtime.js';

/** The part of Electron's MessagePortMain the sidecar uses; typed here because sidecar code never imports electron. */
interface ElectronMessagePort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  on(event: 'close', listener: () => void): void;
  start(): void;
}

interface ElectronParentPort {
  once(event: 'message', listener: (event: { data: unknown; ports: ElectronMessagePort[] }) => void): void;
}

interface HostChannel {
  send(message: SidecarToHostMessage): void;
  onMessage(listener: (message: unknown) => void): void;
  onClose(listener: () => void): void;
}

/** Under Electron the first parentPort message carries the MessagePort that all later messages use. */
function electronChannel(parentPort: ElectronParentPort): Promise<HostChannel> {
  return new Promise((resolve) => {
    parentPort.once('message', (event) => {
      const port = event.ports[0];
      if (!port) {
        logger.fatal('the first message from the host carried no MessagePort');
        process.exit(1);
      }
      port.start();
      resolve({
        send: (message) => port.postMessage(message),
        onMessage: (listener) => port.on('message', (portEvent) => listener(portEvent.data)),
        onClose: (listener) => port.on('close', listener),
      });
    });
  });
}

function nodeChannel(): HostChannel {
  return {
    send: (message) => {
      if (process.connected) process.send?.(message);
    },
    onMessage: (listener) => process.on('message', listener),
    onClose: (listener) => process.on('disconnect', listener),
  };
}

async function connectToHost(): Promise<HostChannel> {
  const parentPort = (process as unknown as { parentPort?: ElectronParentPort }).parentPort;
  if (parentPort) return electronChannel(parentPort);
  if (process.send) return nodeChannel();
  throw new Error('The sidecar must be started by a host (Electron utilityProcess or child_process.fork with IPC).');
}

async function main(): Promise<void> {
  const channel = await connectToHost();
  logger.info({ event: 'start', node: process.versions.node }, 'sidecar started');

  const runtime = new SidecarRuntime({
    send: (message) => channel.send(message),
    exit: (code) => {
      logger.flush();
      // Let the last message reach the host before the process ends.
      setTimeout(() => process.exit(code), 20);
    },
  });
  channel.onMessage((message) => {
    if (!isHostToSidecarMessage(message)) {
      logger.warn({ messageType: typeof message }, 'ignored a message that is not a host message');
      return;
    }
    runtime.handle(message as HostToSidecarMessage);
  });
  channel.onClose(() => {
    logger.info({ event: 'host_gone' }, 'the host channel closed; stopping');
    void runtime.shutdown();
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      logger.info({ signal }, 'received a stop signal');
      void runtime.shutdown();
    });
  }
}

process.on('unhandledRejection', (reason) => {
  logger.error({ err: reason }, 'unhandled promise rejection');
});

main().catch((error: unknown) => {
  logger.fatal({ err: error }, 'the sidecar could not start');
  process.exit(1);
});
