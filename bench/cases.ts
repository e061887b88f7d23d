// The benchmarked requests, and the check that the sidecar and the baseline return the same body for each of them.

import { isDeepStrictEqual } from 'node:util';

import type { BenchData } from './bench-data.js';
import type { ServerUnderTest } from './servers.js';

export interface BenchCase {
  /** Stable key in the JSON results. */
  id: string;
  /** Row label in the results table. */
  label: string;
  /** Path and query, the same for both servers. */
  path: string;
}

const PAGE_LIMIT = 100;

function messagesPath(data: BenchData, query: string): string {
  return `/api/rooms/${encodeURIComponent(data.roomId)}/messages?${query}`;
}

/**
 * Asks the sidecar for the page that ends just before `deepOffset`, so that
 * its `nextCursor` starts the cursor page at the same depth as the offset page.
 */
export async function fetchDeepCursor(sidecar: ServerUnderTest, data: BenchData): Promise<string> {
  const path = messagesPath(data, `limit=${PAGE_LIMIT}&offset=${data.deepOffset - PAGE_LIMIT}`);
  const response = await fetch(sidecar.baseUrl + path, { headers: sidecar.headers });
  const body = (await response.json()) as { page?: { nextCursor?: unknown } };
  const cursor = body.page?.nextCursor;
  if (response.status !== 200 || typeof cursor !== 'string') {
    throw new Error(`GET ${path} returned status ${response.status} without a nextCursor.`);
  }
  return cursor;
}

export function buildCases(data: BenchData, deepCursor: string): BenchCase[] {
  const depth = data.deepOffset.toLocaleString('en-US');
  const messageId = encodeURIComponent(data.messageId);
  return [
    { id: 'health', label: 'Health', path: '/api/health' },
    { id: 'rooms', label: 'Rooms list', path: '/api/rooms' },
    { id: 'messages-first', label: 'Messages, first page (offset 0)', path: messagesPath(data, `limit=${PAGE_LIMIT}&offset=0`) },
    {
      id: 'messages-offset-deep',
      label: `Messages, offset ${depth}`,
      path: messagesPath(data, `limit=${PAGE_LIMIT}&offset=${data.deepOffset}`),
    },
    {
      id: 'messages-cursor-deep',
      label: `Messages, cursor at ${depth}`,
      path: messagesPath(data, `limit=${PAGE_LIMIT}&cursor=${deepCursor}`),
    },
    {
      id: 'since-recent',
      label: 'Messages since a recent timestamp (newest 50)',
      path: `/api/rooms/${encodeURIComponent(data.roomId)}/messages/since?sinceTimestamp=${data.recentTimestamp}&limit=${PAGE_LIMIT}`,
    },
    {
      id: 'since-old',
      label: 'Messages since an old timestamp (first page)',
      path: `/api/rooms/${encodeURIComponent(data.roomId)}/messages/since?sinceTimestamp=${data.oldTimestamp}&limit=${PAGE_LIMIT}`,
    },
    { id: 'message', label: 'One message', path: `/api/messages/${messageId}` },
    { id: 'reactions', label: `Reactions of that message (${data.messageReactions})`, path: `/api/messages/${messageId}/reactions` },
    { id: 'attachments', label: 'Attachments list', path: '/api/attachments' },
  ];
}

async function fetchJson(server: ServerUnderTest, path: string): Promise<unknown> {
  const response = await fetch(server.baseUrl + path, { headers: server.headers });
  if (response.status !== 200) throw new Error(`The ${server.name} returned status ${response.status} for GET ${path}.`);
  return response.json();
}

/** Drops the timestamp of the health body, the server's clock, which differs between two requests. */
function comparable(caseId: string, body: unknown): unknown {
  if (caseId !== 'health' || typeof body !== 'object' || body === null) return body;
  const { timestamp: _timestamp, ...rest } = body as Record<string, unknown>;
  return rest;
}

/**
 * Fetches every case from both servers and throws when a body differs,
 * because the ratio of two servers that return different data means nothing.
 */
export async function assertSameBodies(cases: BenchCase[], sidecar: ServerUnderTest, baseline: ServerUnderTest): Promise<void> {
  for (const benchCase of cases) {
    const [fromSidecar, fromBaseline] = await Promise.all([fetchJson(sidecar, benchCase.path), fetchJson(baseline, benchCase.path)]);
    if (!isDeepStrictEqual(comparable(benchCase.id, fromSidecar), comparable(benchCase.id, fromBaseline))) {
      throw new Error(
        `The baseline's body for GET ${benchCase.path} differs from the sidecar's; fix bench/baseline-server.ts so that it runs the same queries.`,
      );
    }
  }
}
