// A real OpenID provider (panva's oidc-provider) for Clearance's identity tests. Loopback only.
//
// Usage: node provider.mjs CONFIG.json
// The Python fixture (tests/auth/oidc_provider.py) writes CONFIG.json: the issuer, the port, the signing keys
// (pre-generated, so that "key rotation" is "restart with another key"), the clients, the accounts and the
// resource servers (audiences). It prints one line "READY <issuer>" on stdout once it listens.
import { readFileSync } from 'node:fs';

import Provider, { errors } from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const accounts = config.accounts ?? {};
const clientClaims = config.client_claims ?? {};
const resources = config.resources ?? {};

const provider = new Provider(config.issuer, {
  jwks: config.jwks,
  clients: config.clients,
  cookies: { keys: ['clearance-test-cookie-key'] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  // Groups (and the other claims asked for by scope) in the ID token even when an access token is issued too.
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    clientCredentials: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (_ctx, _client, oneOf) => oneOf ?? config.default_resource,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, indicator) => {
        const server = resources[indicator];
        if (!server) throw new errors.InvalidTarget();
        return {
          scope: server.scope ?? 'api',
          audience: server.audience ?? indicator,
          accessTokenTTL: server.ttl ?? 300,
          // Without this the access tokens are opaque.
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: server.alg ?? 'RS256' } },
        };
      },
    },
  },
  // Claims the resource server (Clearance) maps to an identity: per account for user tokens, per client for
  // client-credentials tokens.
  extraTokenClaims: async (_ctx, token) => {
    if (token.accountId) return accounts[token.accountId]?.token_claims;
    return clientClaims[token.clientId];
  },
  findAccount: async (_ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, ...(accounts[sub]?.id_token_claims ?? {}) }),
  }),
  issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token')
    && code.scopes.has('offline_access'),
  ttl: {
    AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 300,
    ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 300,
    DeviceCode: 600,
    IdToken: 300,
    Interaction: 600,
    Session: 600,
    Grant: 600,
    RefreshToken: 3600,
  },
});

provider.listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`READY ${config.issuer}\n`);
});
