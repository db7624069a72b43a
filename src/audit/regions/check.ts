// Whether a file's shapes mark part of the image they are for, in the words of a regions error.
import { describe, SightlineError } from '../../core/errors.js';
import { shapesMask } from '../../core/regions/mask.js';
import { describePoints } from '../../core/regions/shapes.js';
import type { ImageRegions } from '../types.js';
import { regionsError } from './common.js';

/**
 * Checks that each shape marks part of a width × height image. A shape that lies entirely outside the image,
 * or covers no pixel centre, is a SightlineError 'REGIONS' ("The box [900, 10, 50, 50] for 'dog.jpg' in
 * 'regions.json' lies outside the 768×576 image."), which the audit records for the image before going on;
 * shapes that reach beyond the image are clipped. `file` names the image in the message. Regions given as a
 * mask (no shapes) are checked by readMask.
 */
export function checkShapes(regions: ImageRegions, width: number, height: number, file?: string): void {
  if (regions.shapes.length === 0) return;
  try {
    shapesMask(regions.shapes, width, height);
  } catch (error) {
    const whose = `${file === undefined ? '' : ` for '${file}'`} in '${regions.source}'`;
    const index = error instanceof SightlineError ? error.details.index : undefined;
    if (typeof index !== 'number') {
      throw regionsError(`The regions${whose} are malformed: ${(error as Error).message}`, { file }, error);
    }
    const shape = regions.shapes[index];
    const what =
      shape.type === 'box'
        ? `The box ${describe([shape.x, shape.y, shape.width, shape.height])}`
        : `The polygon ${describePoints(shape.points)}`;
    const size = `${width}×${height}`;
    const outside = (error as SightlineError).details.reason === 'outside';
    throw regionsError(
      outside
        ? `${what}${whose} lies outside the ${size} image.`
        : `${what}${whose} covers no pixel centre of the ${size} image, so it marks nothing; expected a ` +
            `${shape.type} that covers the centre of at least one pixel.`,
      { file, source: regions.source, shape, width, height, reason: outside ? 'outside' : 'no-pixel-centre' },
      error,
    );
  }
}
