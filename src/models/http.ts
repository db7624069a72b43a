// Black-box models behind an HTTP endpoint: placeholder until the client lands (issue 7).
import { SightlineError } from '../core/errors.js';
import type { Model } from '../core/model.js';
import type { ModelHints } from './spec.js';

export async function loadHttpModel(url: string, _hints: ModelHints): Promise<Model> {
  throw new SightlineError('MODEL_LOAD', `HTTP models are not supported yet: '${url}'.`, { url });
}
