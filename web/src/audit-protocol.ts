// The audit's messages between the page and the engine worker (joined into protocol.ts's Request and Reply).
// Photos cross as File objects: the worker reads each when its turn comes, so a folder of thousands of photos
// is never held in memory at once.
import type { AuditRow } from '../../src/browser.js';
import type { AuditPictures } from './audit-pictures.js';

export interface AuditPhoto {
  /** Its identity in the results: the path inside the dropped folder, '/'-separated. */
  readonly file: string;
  readonly blob: Blob;
}

export interface AuditRegionsFile {
  readonly name: string;
  readonly text: string;
}

export interface AuditRequest {
  readonly type: 'audit';
  readonly id: number;
  readonly photos: readonly AuditPhoto[];
  /** A COCO .json, a boxes .csv, or one or more Pascal VOC .xml files. */
  readonly regions?: readonly AuditRegionsFile[];
  readonly method: string;
  /** Draw each photo's overlay and thumbnail for report.html (audit-pictures.ts). */
  readonly pictures: boolean;
}

export type AuditReply =
  | {
      /** One finished photo, as soon as it is done (progress comes as 'progress' replies). */
      readonly type: 'audit-row';
      readonly id: number;
      readonly row: AuditRow;
      readonly pictures?: AuditPictures;
    }
  | {
      /** The end: every photo's row was sent, or, when cancelled, those finished. */
      readonly type: 'audit';
      readonly id: number;
      readonly cancelled: boolean;
    };
