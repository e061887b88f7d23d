// Offset and keyset (cursor) paging shared by every list route.

import { ApiError } from '../errors.js';

export const DEFAULT_LIMIT = 100;
export const MIN_LIMIT = 1;
export const MAX_LIMIT = 500;

/** Position after the last row of a page, in the list's sort order: (sort key, id). */
export interface CursorPosition {
  sortKey: number;
  id: string;
}

export interface PageRequest {
  limit: number;
  offset: number;
  cursor?: CursorPosition;
}

export interface PageInfo {
  limit: number;
  offset: number;
  /** Number of items in this response. */
  returned: number;
  hasMore: boolean;
  /** Offset of the next page, or null on the last page. */
  nextOffset: number | null;
  /** Cursor of the next page for lists that support `cursor`, or null. */
  nextCursor: string | null;
}

export function clampLimit(limit: number): number {
  return Math.min(MAX_LIMIT, Math.max(MIN_LIMIT, limit));
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.sortKey, position.id]), 'utf8').toString('base64url');
}

/** Decodes a cursor from a previous response; throws INVALID_REQUEST for anything else. */
export function decodeCursor(cursor: string): CursorPosition {
  const invalid = new ApiError('INVALID_REQUEST', 'cursor is invalid; pass the nextCursor value of a previous response unchanged.');
  if (!/^[A-Za-z0-9_-]{1,1024}$/.test(cursor)) throw invalid;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  if (!Array.isArray(decoded) || decoded.length !== 2) throw invalid;
  const [sortKey, id] = decoded as unknown[];
  if (typeof sortKey !== 'number' || !Number.isSafeInteger(sortKey) || typeof id !== 'string') throw invalid;
  return { sortKey, id };
}

/**
 * Cuts the extra row that a query fetched (limit + 1) to learn whether more
 * rows follow, and describes how to fetch them.
 */
export function toPage<Row>(
  rows: Row[],
  request: PageRequest,
  cursorOf?: (row: Row) => CursorPosition,
): { items: Row[]; page: PageInfo } {
  const hasMore = rows.length > request.limit;
  const items = hasMore ? rows.slice(0, request.limit) : rows;
  const last = items.at(-1);
  const nextCursor = hasMore && cursorOf && last !== undefined ? encodeCursor(cursorOf(last)) : null;
  const nextOffset = hasMore && request.cursor === undefined ? request.offset + items.length : null;
  return {
    items,
    page: {
      limit: request.limit,
      offset: request.offset,
      returned: items.length,
      hasMore,
      nextOffset,
      nextCursor,
    },
  };
}
