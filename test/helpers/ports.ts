// Free TCP ports on 127.0.0.1 for tests that must name a port before a server binds it.

import { createServer } from 'node:net';

/** Returns a port that was free a moment ago; another process may still take it before the caller binds. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('The probe server has no TCP address.');
  return address.port;
}
