// `sightline explain --list-layers`: the layers the CAM methods can read (--layer), with their kind, dims and
// grid, the default marked; no photo needed.

import { SightlineError } from '../core/errors.js';
import type { LayerInfo } from '../core/model.js';
import { loadModelForCli, type ModelFlags, modelHints } from './options.js';
import { print, printJson, safeName } from './print.js';

/** What a layer is, in words: a map, tokens with their extra ones, or a channels-last map. */
function kindOf(l: LayerInfo): string {
  if (l.kind === 'tokens') {
    const extra = l.extraTokens ?? 0;
    // Where the extra tokens sit matters to anyone reading the layer's output by hand: a class token first (ViT)
    // or registers/distillation tokens last.
    return extra > 0 && l.extraTokensAt === 'end'
      ? `tokens (${extra} extra, last)`
      : `tokens (${extra} extra)`;
  }
  return l.kind ?? 'map';
}

export async function listLayers(ref: string, flags: ModelFlags & { json?: boolean }): Promise<void> {
  const model = await loadModelForCli(ref, modelHints(flags));
  try {
    if (!model.layers || !model.capabilities.has('layers')) {
      throw new SightlineError(
        'MISSING_CAPABILITY',
        `'${safeName(ref)}' exposes no layers (it runs predict-only); CAM methods need an ONNX model or one converted to it.`,
        { capability: 'layers' },
      );
    }
    const { layers, defaultLayer } = await model.layers();
    if (flags.json) {
      printJson({
        defaultLayer,
        attention: model.capabilities.has('attention'),
        layers: layers.map((l) => ({ ...l, kind: l.kind ?? 'map', default: l.name === defaultLayer })),
      });
      return;
    }
    const rows = layers.map((l) => [
      l.name === defaultLayer ? '*' : ' ',
      kindOf(l),
      `[${l.dims.join(', ')}]`,
      l.grid ? `${l.grid[0]}×${l.grid[1]}` : '',
      safeName(l.name),
    ]);
    const head = [' ', 'kind', 'dims', 'grid', 'name'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (r: string[]) =>
      `${r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]) : c)).join('  ')}\n`;
    print(`${layers.length} layers the CAM methods can read (--layer <name>); * marks the default:\n`);
    print(line(head));
    for (const r of rows) print(line(r));
  } finally {
    await model.dispose();
  }
}
