// Pascal VOC annotation files: <filename> and each <object><bndbox>, one file per image.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { RegionShape } from '../../core/regions/shapes.js';
import type { ImageRegions } from '../types.js';
import { describeValue, isRecord, listOf, regionsError } from './common.js';
import { normalizeFileName } from './match.js';

/** One VOC file's image and boxes. */
export interface VocFile {
  readonly file: string;
  readonly shapes: RegionShape[];
  readonly source: string;
}

const xmlParser = new XMLParser({ ignoreAttributes: true, parseTagValue: false });

export function readVoc(path: string, text: string): VocFile {
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw regionsError(
      `'${path}' is not well-formed XML (line ${valid.err.line}, column ${valid.err.col}: ${valid.err.msg}); ` +
        'expected a Pascal VOC annotation.',
      { path },
    );
  }
  const root = (xmlParser.parse(text) as { annotation?: unknown }).annotation;
  if (root === undefined) {
    throw regionsError(`'${path}' has no <annotation> element; expected a Pascal VOC annotation file.`, {
      path,
    });
  }
  // An <annotation> without child elements parses as its text.
  const annotation = isRecord(root) ? root : {};
  const file = typeof annotation.filename === 'string' ? normalizeFileName(annotation.filename) : '';
  if (file === '') {
    throw regionsError(
      `'${path}' has no <filename>; expected the image's file name there, as VOC writes it.`,
      {
        path,
      },
    );
  }
  const shapes = listOf(annotation.object).map((object, k): RegionShape => {
    const label = isRecord(object) && typeof object.name === 'string' ? ` ('${object.name}')` : '';
    const name = `Object ${k + 1}${label} in '${path}'`;
    const box = isRecord(object) ? object.bndbox : undefined;
    if (!isRecord(box)) {
      throw regionsError(`${name} has no <bndbox>; expected <bndbox> with <xmin>, <ymin>, <xmax>, <ymax>.`, {
        path,
      });
    }
    const corner = (key: string): number => {
      const value = box[key];
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
      if (!Number.isFinite(number)) {
        const seen = value === undefined ? `no <${key}>` : `<${key}> ${describeValue(value)}`;
        throw regionsError(
          `${name} has ${seen}; expected a number there (VOC corners are 1-based pixel indices).`,
          { path },
        );
      }
      return number;
    };
    const [xmin, ymin, xmax, ymax] = ['xmin', 'ymin', 'xmax', 'ymax'].map(corner);
    if (xmax < xmin || ymax < ymin) {
      throw regionsError(
        `${name} has <bndbox> xmin ${xmin}, ymin ${ymin}, xmax ${xmax}, ymax ${ymax}; expected xmin ≤ xmax ` +
          'and ymin ≤ ymax (VOC corners are 1-based and inclusive).',
        { path },
      );
    }
    return { type: 'box', x: xmin - 1, y: ymin - 1, width: xmax - xmin + 1, height: ymax - ymin + 1 };
  });
  return { file, shapes, source: path };
}

/** The VOC files' boxes by image; two files for one image are an error. */
export function collectVoc(files: readonly VocFile[]): Map<string, ImageRegions> {
  const index = new Map<string, ImageRegions>();
  for (const { file, shapes, source } of files) {
    const other = index.get(file);
    if (other) {
      throw regionsError(
        `'${other.source}' and '${source}' both annotate '${file}'; expected one VOC file per image.`,
        { file, sources: [other.source, source] },
      );
    }
    if (shapes.length > 0) index.set(file, { shapes, source });
  }
  return index;
}
