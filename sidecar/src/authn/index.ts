export { ANONYMOUS_PRINCIPAL, type AuthMethod, type Principal } from '../contract/principal.ts';
export { hashApiKey } from './api-keys.ts';
export {
  type Authenticator,
  type AuthenticatorDeps,
  type AuthnRequest,
  type AuthResult,
  createAuthenticator,
} from './authenticator.ts';
export { MAX_TOKEN_BYTES } from './credentials.ts';
export { AuthnConfigError, AuthnError, type AuthnErrorCode, type AuthnHttpStatus } from './errors.ts';
export {
  type MetadataLocation,
  metadataLocation,
  type ProtectedResourceMetadata,
  protectedResourceMetadata,
} from './protected-resource-metadata.ts';
