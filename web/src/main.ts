// The page: photo in, predictions, the heat map, the user's boxes and the verdict, comparison and downloads.
// The model runs in worker.ts; each panel is its own module, their shared state is state.ts, and dom.ts finds
// their elements. This file only starts them.
import { setUpAudit } from './audit-panel.js';
import { setUpCompare } from './compare.js';
import { setUpExport } from './export.js';
import { setUpMethodMenu } from './method-menu.js';
import { setUpModel } from './model.js';
import { setUpOverlay } from './overlay.js';
import { setUpOwnModel } from './own-model.js';
import { setUpPhoto } from './photo.js';
import { setUpPredictions } from './predictions.js';
import { setUpRegion } from './region.js';
import { setUpWork } from './work.js';

setUpOverlay();
setUpPhoto();
setUpPredictions();
setUpMethodMenu();
setUpWork();
setUpRegion();
setUpCompare();
setUpExport();
setUpOwnModel();
setUpModel();
setUpAudit();
