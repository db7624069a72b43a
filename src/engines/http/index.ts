// Black-box models behind HTTP (docs/http-models.md). Node-only: PNG encoding uses sharp.
export {
  displayUrl,
  HTTP_DEFAULTS,
  HttpClient,
  type HttpClientOptions,
  type HttpReply,
  parseRetryAfter,
} from './client.js';
export {
  encodeInputs,
  type HttpInputFormat,
  parseScores,
  type RequestItem,
} from './codec.js';
export { fetchMetadata, type HttpMetadata } from './metadata.js';
export { HttpModel, type HttpModelOptions } from './model.js';
