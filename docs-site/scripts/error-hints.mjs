// Advice for scripts and people on each error code; the generator adds it to docs/errors.md.

export const ERROR_HINTS = {
  INVALID_REQUEST:
    'A parameter, query value or body field is missing or malformed. `detail` names the field and the rule it broke; fix the request and send it again.',
  AUTH_REQUIRED:
    'The route needs `Authorization: Bearer <token>`. Get a token from `POST /api/auth/login`. A token in the query string is ignored.',
  INVALID_TOKEN:
    'The token is unknown, expired (tokens last one hour), revoked in Settings, or was issued before the server restarted. Log in again to get a new one.',
  INVALID_CREDENTIALS:
    'The signaling server answered that the username or password is wrong. Each failure counts toward the login rate limit.',
  NO_ALLOWED_SERVERS:
    'No signaling server is in the allowed list, so no login can be checked. Add your server under Settings > Local API > Allowed signaling servers.',
  SERVER_NOT_ALLOWED:
    '`serverUrl` is not in the allowed list, or is a URL that can never be allowed (plain `http` to a host other than localhost, a user name, a query or a fragment). Use the exact server URL shown in Settings.',
  NOT_LOCAL_USER:
    'The signaling server accepted the account, but it is not the user signed in to this desktop app (the `metoyou_currentUserId` value). Only that user may get a local token.',
  HOST_NOT_ALLOWED:
    'The `Host` header does not name this server. Call `http://127.0.0.1:<port>`, `http://localhost:<port>` or `http://[::1]:<port>`, or a LAN address of this machine while LAN access is on. This check stops DNS rebinding attacks from web pages.',
  ORIGIN_NOT_ALLOWED:
    'A browser sent the request from a page whose origin is not allowed. Add the exact origin under Settings > Local API > Allowed browser origins if you trust that page. Scripts outside a browser send no `Origin` and are not affected.',
  ROUTE_NOT_FOUND:
    'No route or documentation file matches the path. Check the path against the [Local API](./reference.md) page. A documentation page also answers this code when the Docusaurus site has not been built.',
  ROOM_NOT_FOUND: 'No room with this id is stored on this device. List the known rooms with `GET /api/rooms`.',
  MESSAGE_NOT_FOUND: 'No message with this id is stored on this device.',
  USER_NOT_FOUND: 'No user with this id is stored on this device.',
  META_KEY_NOT_FOUND: 'The desktop app has no metadata value under this key.',
  PLUGIN_DATA_NOT_FOUND: 'No plugin data value is stored for this plugin, key and scope.',
  DOCS_DISABLED:
    'This documentation site is turned off. Turn on "Serve the API reference (Scalar)" or "Serve the guides (Docusaurus)" under Settings > Local API > Documentation.',
  METHOD_NOT_ALLOWED:
    'The path exists but not with this HTTP method. The API is read-only: every route is `GET` except `POST /api/auth/login` and `POST /api/auth/logout`.',
  PAYLOAD_TOO_LARGE: 'The request body is over the limit (8 KiB for a login). Send only `username`, `password` and `serverUrl`.',
  UNSUPPORTED_MEDIA_TYPE: 'Send the body as JSON with the header `Content-Type: application/json`.',
  RATE_LIMITED:
    'Too many logins failed recently, from this client or from all clients together. Wait the number of seconds in the `Retry-After` header before trying again.',
  TOO_MANY_TOKENS:
    'Too many tokens are live at once. Log out tokens you no longer need with `POST /api/auth/logout`, revoke them in Settings, or wait for them to expire.',
  INTERNAL_ERROR:
    'The server failed in a way it did not expect. The response carries no detail on purpose; find the `requestId` in the local API log and report it.',
  UPSTREAM_UNREACHABLE:
    'The signaling server could not be used to check the login: it did not answer in time, answered with a status other than 200, 401 or 403, redirected, or sent a body that is not the expected JSON. Check that the server is up and that its URL in Settings is right.',
  DATABASE_UNAVAILABLE:
    'The desktop database could not be opened, for example because the app has not created it yet. Start the MetoYou desktop app once and retry.',
  DATABASE_BUSY: 'Another process holds a lock on the desktop database. Retry after a short wait.',
  DATABASE_CORRUPT: 'The desktop database file is not a valid SQLite database. The desktop app needs to repair or recreate it.',
};
