// TF.js models (Layers and Graph, Teachable Machine exports): placeholder until the converter lands (issue 7).
import { SightlineError } from '../core/errors.js';
import type { Model } from '../core/model.js';
import type { ModelHints } from './spec.js';

/** A folder, a model.json path, or a URL whose path ends in .json names a TF.js model. */
export function isTfjsModelRef(ref: string): boolean {
  const path = /^https?:\/\//i.test(ref) ? new URL(ref).pathname : ref;
  return /\.json$/i.test(path);
}

export async function loadTfjsModel(ref: string, _hints: ModelHints): Promise<Model> {
  throw new SightlineError('MODEL_LOAD', `TF.js models are not supported yet: '${ref}'.`, { ref });
}
